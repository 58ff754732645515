"""WSGI entry point, served by granian (see `manage.py up`)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from herald.core.wsgi import build_application

application = build_application()
