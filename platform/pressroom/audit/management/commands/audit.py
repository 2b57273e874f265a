from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from pressroom.accounts.models import Workspace
from pressroom.audit.export import audit_event_list, iter_jsonl, write_csv
from pressroom.audit.verification import audit_chain_verify


def _when(value: str | None):
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"Not an ISO 8601 date-time: {value!r}")
    return parsed


def _pair(value: str | None, what: str) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    kind, _, ident = value.partition(":")
    if not kind:
        raise CommandError(f"--{what} takes TYPE or TYPE:ID")
    return kind, ident or None


class Command(BaseCommand):
    help = "Verify the audit hash chains, or export audit events (JSON Lines or CSV)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="Recompute the chain; name the first tampered event.")
        verify.add_argument("--workspace", help="Workspace slug (default: all workspaces).")
        export = sub.add_parser("export", help="Write events to standard output.")
        export.add_argument("--workspace", required=True, help="Workspace slug.")
        export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
        export.add_argument("--since", help="ISO date-time, inclusive.")
        export.add_argument("--until", help="ISO date-time, exclusive.")
        export.add_argument("--object", help="TYPE or TYPE:ID, e.g. artifact:3f2a...")
        export.add_argument("--actor", help="TYPE or TYPE:ID, e.g. user:7 or worker")

    def _workspaces(self, slug: str | None):
        workspaces = Workspace.objects.all()
        if slug:
            workspaces = workspaces.filter(slug=slug)
            if not workspaces:
                raise CommandError(f"No workspace {slug!r}")
        return workspaces

    def handle(self, *args, subcommand: str, **options):
        getattr(self, f"handle_{subcommand}")(**options)

    def handle_verify(self, *, workspace=None, **options):
        broken = 0
        for ws in self._workspaces(workspace):
            report = audit_chain_verify(workspace_id=ws.pk)
            if report.ok:
                self.stdout.write(f"{ws.slug}: OK ({report.events} events)")
            else:
                broken += 1
                self.stdout.write(f"{ws.slug}: TAMPERED at {report.problem}")
        if broken:
            raise CommandError(f"{broken} workspace chain(s) failed verification")

    def handle_export(self, *, workspace, format, since=None, until=None, object=None, actor=None, **options):
        ws = self._workspaces(workspace).get()
        object_type, object_id = _pair(object, "object")
        actor_type, actor_id = _pair(actor, "actor")
        events = audit_event_list(
            workspace_id=ws.pk, since=_when(since), until=_when(until), object_type=object_type,
            object_id=object_id, actor_type=actor_type, actor_id=actor_id,
        )
        if format == "csv":
            write_csv(events, self.stdout)
        else:
            for line in iter_jsonl(events):
                self.stdout.write(line, ending="")
