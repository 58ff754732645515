"""Test overrides: fast password hashing and a throwaway data directory.

The database comes from ``DATABASE_URL`` as in production, so the same suite runs on
SQLite (the default) and on PostgreSQL (CI).
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# Two valid Fernet keys so rotation paths are exercised; fixed so failures reproduce.
os.environ.setdefault(
    "HERALD_ENCRYPTION_KEYS",
    "dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LWs=,dGVzdC1rZXktdHdvLXRlc3Qta2V5LXR3by10ZXN0LWs=",
)
os.environ.setdefault("HERALD_DATA_DIR", tempfile.mkdtemp(prefix="herald-test-"))

from config.settings import *  # noqa: F403
from config.settings import STATIC_ROOT, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

STATIC_ROOT.mkdir(parents=True, exist_ok=True)
HERALD_TRACKING_GROUP_COMMIT = False
