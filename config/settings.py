"""Herald's settings: one module, read from the environment.

Production differs from development only through environment variables (see README,
"Configuration"). With ``DEBUG`` off, the secrets Herald cannot run safely without
(``SECRET_KEY``, ``HERALD_ENCRYPTION_KEYS``, ``ALLOWED_HOSTS``) must be set, and a missing
one stops start-up with a message naming it. Tests override a few values in
``config.test_settings``; nothing here reads a path of a particular machine.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)

_PRODUCTION_REASON = "required when DEBUG is off; see README, Configuration"

SECRET_KEY = env_str(
    "SECRET_KEY",
    default="insecure-development-key-do-not-use-in-production" if DEBUG else None,
    required_reason=_PRODUCTION_REASON,
)
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not ALLOWED_HOSTS:
    env_str("ALLOWED_HOSTS", required_reason=_PRODUCTION_REASON)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

# Keys that encrypt OAuth tokens and webhook secrets at rest: a comma-separated list of
# Fernet keys, newest first. The first encrypts; all of them decrypt, so a key can be
# rotated by prepending a new one and running `manage.py rotate_secrets`.
HERALD_ENCRYPTION_KEYS = env_list("HERALD_ENCRYPTION_KEYS", default=[])
if not HERALD_ENCRYPTION_KEYS:
    if DEBUG:
        # A fixed development key: secrets stored with it are not secret.
        HERALD_ENCRYPTION_KEYS = ["aGVyYWxkLWRldmVsb3BtZW50LW9ubHkta2V5LTAwMDE="]
    else:
        env_str("HERALD_ENCRYPTION_KEYS", required_reason=_PRODUCTION_REASON)

# Where the embedded database and uploaded media live.
HERALD_DATA_DIR = Path(env_str("HERALD_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "herald.core",
    "herald.accounts",
    "herald.metrics",
    "herald.campaigns",
    "herald.integrations",
    "herald.tracking",
    "herald.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "herald.core.middleware.ApiProblemMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "herald.core.idempotency.IdempotencyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

# The public tracking endpoints (no session, login or CSRF) skip the rest of the stack:
# see herald.core.wsgi. Security headers and the HTTPS redirect still apply to them.
HERALD_LEAN_PATH_PREFIXES = ("/t/",)
HERALD_LEAN_MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
HERALD_LEAN_LANE = "herald.tracking.wsgi.TrackingLane"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "herald.web.context_processors.navigation",
            ],
        },
    },
]

_default_database_url = f"sqlite:///{HERALD_DATA_DIR / 'herald.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", default=_default_database_url),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", default=60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    HERALD_DATA_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets the web server, the worker and the scheduler read while one writes;
    # IMMEDIATE transactions take the write lock up front instead of failing midway.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HERALD_DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("HERALD_MEDIA_ROOT", default=str(HERALD_DATA_DIR / "media"))).resolve()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Uploaded images: the largest accepted file, in bytes (Meta's own limit is 30 MB).
HERALD_MEDIA_MAX_BYTES = env_int("HERALD_MEDIA_MAX_BYTES", default=30 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

TASKS = {
    "default": {
        "BACKEND": env_str("HERALD_TASK_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": [],
    }
}

# The scheduler's tick, in seconds: how often periodic jobs (launching scheduled
# campaigns, completing ended ones) are checked.
HERALD_SCHEDULER_TICK_SECONDS = env_int("HERALD_SCHEDULER_TICK_SECONDS", default=30, minimum=1)

# How long a stored Idempotency-Key answer is replayed, in hours.
HERALD_IDEMPOTENCY_TTL_HOURS = env_int("HERALD_IDEMPOTENCY_TTL_HOURS", default=24, minimum=1)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("HERALD_BEHIND_PROXY", default=False) else None
)
X_FRAME_OPTIONS = "DENY"

SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs whole URLs at INFO, and some platform calls carry secrets in the
        # query string (Meta's token exchange); herald.core.http logs a safe line instead.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_MAX_LIMIT = 200

# ---- Ad platforms ---------------------------------------------------------------------
# Herald's public address: OAuth redirect URIs are built from it.
HERALD_PUBLIC_URL = env_str("HERALD_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

GOOGLE_ADS = {
    "client_id": env_str("GOOGLE_ADS_CLIENT_ID", default=""),
    "client_secret": env_str("GOOGLE_ADS_CLIENT_SECRET", default=""),
    "authorize_url": env_str(
        "GOOGLE_ADS_AUTHORIZE_URL", default="https://accounts.google.com/o/oauth2/v2/auth"
    ),
    "token_url": env_str("GOOGLE_ADS_TOKEN_URL", default="https://oauth2.googleapis.com/token"),
    "revoke_url": env_str("GOOGLE_ADS_REVOKE_URL", default="https://oauth2.googleapis.com/revoke"),
    "api_url": env_str("GOOGLE_ADS_API_URL", default="https://googleads.googleapis.com"),
    "api_version": env_str("GOOGLE_ADS_API_VERSION", default="v21"),
    "developer_token": env_str("GOOGLE_ADS_DEVELOPER_TOKEN", default=""),
    "login_customer_id": env_str("GOOGLE_ADS_LOGIN_CUSTOMER_ID", default=""),
}
META_ADS = {
    "client_id": env_str("META_APP_ID", default=""),
    "client_secret": env_str("META_APP_SECRET", default=""),
    "authorize_url": env_str("META_DIALOG_URL", default="https://www.facebook.com"),
    "api_url": env_str("META_GRAPH_URL", default="https://graph.facebook.com"),
    "api_version": env_str("META_API_VERSION", default="v25.0"),
}

# Sandbox connections talk to Herald's own fakes of the platforms (started by `up`),
# so a newcomer can try connect → launch → metrics without real ad accounts.
HERALD_SANDBOX_ENABLED = env_bool("HERALD_SANDBOX_ENABLED", default=True)
HERALD_SANDBOX_GOOGLE_ADS_URL = env_str(
    "HERALD_SANDBOX_GOOGLE_ADS_URL", default="http://127.0.0.1:8101"
).rstrip("/")
HERALD_SANDBOX_META_ADS_URL = env_str(
    "HERALD_SANDBOX_META_ADS_URL", default="http://127.0.0.1:8102"
).rstrip("/")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# Connecting an account posts a form that Herald answers with a redirect to the
# platform's consent page; browsers apply form-action to that redirect too.
SECURE_CSP["form-action"] = [
    "'self'",
    _origin(GOOGLE_ADS["authorize_url"]),
    _origin(META_ADS["authorize_url"]),
    *(
        [_origin(HERALD_SANDBOX_GOOGLE_ADS_URL), _origin(HERALD_SANDBOX_META_ADS_URL)]
        if HERALD_SANDBOX_ENABLED
        else []
    ),
]

# Hosts outbound calls may reach even on private addresses (the sandbox fakes).
HERALD_HTTP_TRUSTED_HOSTS = env_list("HERALD_HTTP_TRUSTED_HOSTS", default=[])

# Metric sync: today and yesterday every N minutes, plus a daily back-fill of 7 days.
HERALD_METRICS_SYNC_MINUTES = env_int("HERALD_METRICS_SYNC_MINUTES", default=15, minimum=1)
HERALD_METRICS_BACKFILL_DAYS = env_int("HERALD_METRICS_BACKFILL_DAYS", default=7, minimum=1)
# Calls per second each ad account may receive from Herald (a shared token bucket).
HERALD_PLATFORM_CALLS_PER_SECOND = env_float(
    "HERALD_PLATFORM_CALLS_PER_SECOND", default=5.0, minimum=0.1
)
# Seconds Herald waits for a platform's answer before treating the call as timed out.
HERALD_PLATFORM_TIMEOUT_SECONDS = env_float(
    "HERALD_PLATFORM_TIMEOUT_SECONDS", default=30.0, minimum=0.1
)
# How often a launch that failed for a retryable reason is tried again by itself.
HERALD_LAUNCH_MAX_ATTEMPTS = env_int("HERALD_LAUNCH_MAX_ATTEMPTS", default=5, minimum=1)

# ---- First-party tracking -------------------------------------------------------------
# Commit concurrent events together from one writer thread per process (faster, still
# durable before the answer). Off in tests, where each request writes on its own.
HERALD_TRACKING_GROUP_COMMIT = env_bool("HERALD_TRACKING_GROUP_COMMIT", default=True)
# A second click by the same visitor on the same ad within this window is recorded but
# not billable.
HERALD_DUPLICATE_CLICK_WINDOW_SECONDS = env_int(
    "HERALD_DUPLICATE_CLICK_WINDOW_SECONDS", default=3600, minimum=0
)
# Events further than this from the server clock are refused (clock skew, replays).
HERALD_EVENT_MAX_AGE_DAYS = env_int("HERALD_EVENT_MAX_AGE_DAYS", default=7, minimum=1)
HERALD_TRACKING_BATCH_MAX_EVENTS = env_int(
    "HERALD_TRACKING_BATCH_MAX_EVENTS", default=500, minimum=1
)
