from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pressroom.plugins.config import SDK_API_VERSION
from pressroom.plugins.scaffold import scaffold_plugin


class Command(BaseCommand):
    help = "Create a third-party plugin distribution: pyproject with the entry point, app config, a use case, tests."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Plugin name: lower-case letters, digits, underscores.")
        parser.add_argument("--directory", default=".", help="Where to create pressroom-NAME/ (default: here).")

    def handle(self, *args, name: str, directory: str, **options):
        try:
            files = scaffold_plugin(name, Path(directory), SDK_API_VERSION)
        except (ValueError, FileExistsError) as error:
            raise CommandError(str(error)) from error
        root = files[0].parent
        self.stdout.write(f"Created {root}")
        self.stdout.write(f"Next: pip install -e {root} && export PRESSROOM_PLUGINS=\"$PRESSROOM_PLUGINS,{name}\"")
