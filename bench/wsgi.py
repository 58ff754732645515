"""WSGI entry point of the benchmark server (granian ``bench.wsgi:application``): the
application exactly as ``config.wsgi`` builds it, with the benchmark's settings."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from herald.core.wsgi import build_application

application = build_application()
