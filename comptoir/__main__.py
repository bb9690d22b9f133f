"""The ``comptoir`` command: Django's ``manage.py`` for this project.

``comptoir serve`` runs the ASGI application under uvicorn; every other
sub-command is a Django management command (``comptoir migrate``,
``comptoir createsuperuser``, ``comptoir load_demo``, ...).
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
