from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from pressroom.accounts.models import Workspace
from pressroom.audit.checkpoints import (
    audit_checkpoints_write,
    checkpoints_read,
    load_public_key,
    public_key_pem,
)
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
    help = "Verify the audit hash chains, export audit events (JSON Lines or CSV), or sign checkpoints."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="Recompute the chain; name the first tampered event.")
        verify.add_argument("--workspace", help="Workspace slug (default: all workspaces).")
        verify.add_argument("--checkpoints", help="A checkpoint file (JSON Lines) kept outside the database; "
                                                  "detects truncation, deleted chains and recomputed rewrites.")
        verify.add_argument("--public-key", help="PEM file of the checkpoint key (default: the configured key).")
        checkpoint = sub.add_parser("checkpoint", help="Sign every workspace's chain head now (also done on a "
                                                       "schedule and on every export).")
        checkpoint.add_argument("--workspace", help="Workspace slug (default: all workspaces).")
        sub.add_parser("public-key", help="Print the checkpoint key's public half (PEM), for auditors.")
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

    def _checkpoints(self, path: str | None, public_key: str | None):
        if path is None:
            return [], None
        try:
            checkpoints = checkpoints_read(path)
            key = load_public_key(Path(public_key).read_text() if public_key else public_key_pem())
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from None
        return checkpoints, key

    def handle_verify(self, *, workspace=None, checkpoints=None, public_key=None, **options):
        signed, key = self._checkpoints(checkpoints, public_key)
        workspaces = {ws.pk: ws.slug for ws in self._workspaces(workspace)}
        if not workspace:  # a chain deleted with its workspace row still has its checkpoints
            workspaces.update({c.workspace_id: f"workspace #{c.workspace_id}" for c in signed if c.workspace_id not in workspaces})
        broken = 0
        for workspace_id, slug in sorted(workspaces.items()):
            report = audit_chain_verify(workspace_id=workspace_id, checkpoints=signed, public_key=key)
            against = f", {report.checkpoints} checkpoints" if checkpoints else ""
            if report.ok:
                self.stdout.write(f"{slug}: OK ({report.events} events{against})")
            else:
                broken += 1
                self.stdout.write(f"{slug}: TAMPERED at {report.problem}")
        if broken:
            raise CommandError(f"{broken} workspace chain(s) failed verification")

    def handle_checkpoint(self, *, workspace=None, **options):
        workspace_id = self._workspaces(workspace).get().pk if workspace else None
        for checkpoint in audit_checkpoints_write(workspace_id=workspace_id):
            self.stdout.write(f"workspace #{checkpoint.workspace_id}: signed #{checkpoint.sequence} {checkpoint.hash[:16]}…")

    def handle_public_key(self, **options):
        self.stdout.write(public_key_pem(), ending="")

    def handle_export(self, *, workspace, format, since=None, until=None, object=None, actor=None, **options):
        ws = self._workspaces(workspace).get()
        audit_checkpoints_write(workspace_id=ws.pk)  # every export is anchored by a checkpoint
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

