#!/usr/bin/env python
"""Django's command-line utility for Pressroom."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# platform/ and workers/ are source folders without __init__.py (see DESIGN.md):
# putting them on the path keeps the standard-library `platform` module intact.
for source_folder in ("platform", "workers"):
    path = str(ROOT / source_folder)
    if path not in sys.path:
        sys.path.insert(0, path)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pressroom.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
