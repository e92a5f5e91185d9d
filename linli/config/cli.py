"""The `linli` command: every Django management command, with dashed names allowed.

    linli migrate
    linli seed-demo --seed 7
    linli serve --host 0.0.0.0 --port 8000 --workers 4
"""

import os
import sys


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.config.settings")
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    argv[0] = "linli"
    import django
    from django.conf import settings
    from django.core.management import execute_from_command_line

    django.setup()
    # A fresh checkout has no var/: make the data directory (SQLite, static files).
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
