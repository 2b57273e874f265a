from django.core.management.base import BaseCommand, CommandError
from pressroom.conf import pressroom_settings


class Command(BaseCommand):
    help = "Build the default offline models (SmolLM2 text, MiniLM embeddings, placeholder image model)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Rebuild even if a folder is already complete.")
        parser.add_argument("--only", nargs="*", help="Build only these model folders.")

    def handle(self, *args, force: bool = False, only: list[str] | None = None, **options):
        from pressroom_workers.offline.prepare import BUILDERS, prepare_model

        unknown = sorted(set(only or ()) - set(BUILDERS))
        if unknown:
            raise CommandError(f"Unknown model folder(s) {unknown}; choose from {sorted(BUILDERS)}")
        root = pressroom_settings.model_root
        for name in only or BUILDERS:
            try:
                folder, built = prepare_model(root, name, force=force)
            except FileNotFoundError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"{'built' if built else 'ready'}: {folder}")
        self._warm_harm_probe()

    def _warm_harm_probe(self) -> None:
        """Encode the harm check's exemplars once, here, so the first screening in each new
        process does not (they are cached beside the ONNX encoder)."""
        from pressroom.safety.checks.harm import current_harm_probe
        from pressroom.safety.semantic import EncoderNotAvailable

        try:
            self.stdout.write(f"ready: {current_harm_probe().name}")
        except EncoderNotAvailable as error:
            self.stderr.write(f"The semantic safety checks cannot run: {error}")
