"""Django settings for Pressroom, read from the environment (12-factor).

Defaults give the embedded set-up: SQLite and a filesystem Celery broker under var/.
Production sets DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis or RabbitMQ).
"""
import importlib.util
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from pressroom.plugins.discovery import PluginNotInstalled, plugin_apps

BASE_DIR = Path(__file__).resolve().parents[2]

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

VAR_DIR = Path(env("PRESSROOM_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)



def _embedded_secret_key(path: Path) -> str:
    """No DJANGO_SECRET_KEY: the embedded default makes a random key once, readable by its
    owner only, shared by its processes. (A fixed default would let anyone sign sessions
    and media links.)"""
    import os
    import secrets

    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    except FileExistsError:
        pass
    return path.read_text().strip()


SECRET_KEY = env("DJANGO_SECRET_KEY", default=None) or _embedded_secret_key(VAR_DIR / "secret-key")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pressroom.core",
    "pressroom.accounts",
    "pressroom.plugins",
    "pressroom.audit",
    "pressroom.safety",
    "pressroom.jobs",
    "pressroom.publishing",
    "pressroom.campaigns",
    "pressroom.schedules",
    "pressroom.usage",
    "pressroom.api",
    "pressroom.dashboard",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "django_celery_beat",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
]
# Plugins: installed distributions announce themselves under the entry-point group
# `pressroom.plugins`; only those named here are loaded, with a clear error otherwise.
PLUGINS = env.list("PRESSROOM_PLUGINS", default=["marketing", "design", "recommendation"])
try:
    INSTALLED_APPS += plugin_apps(PLUGINS)
except PluginNotInstalled as error:
    raise ImproperlyConfigured(str(error)) from None

# The worker package is a Django app too (its management commands) where it is
# installed; web-only deployments may leave it out.
if importlib.util.find_spec("pressroom_workers") is not None:
    INSTALLED_APPS.append("pressroom_workers")

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "pressroom.api.errors.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "pressroom.urls"
WSGI_APPLICATION = "pressroom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pressroom.dashboard.context_processors.dashboard",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'pressroom.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded web and worker processes share one SQLite file: wait on locks
    # instead of failing, and take the write lock at BEGIN so writers queue cleanly.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections on PostgreSQL (a new connection costs the server a process and
# the request a few milliseconds); each web thread and worker process keeps its own, and
# a health check replaces one the server dropped. SQLite opens its file per request.
_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60 if _POSTGRES else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Server-side binding on PostgreSQL: parameters travel apart from the SQL, so psycopg does
# not quote them into the text, and a statement run a few times on a connection is
# prepared once (measured on POST /api/v1/jobs/: 45 -> 41 ms of CPU a submission in
# process). Off with DATABASE_SERVER_SIDE_BINDING=0 (e.g. behind PgBouncer before 1.21).
if _POSTGRES and env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True

LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "dashboard:login"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("PRESSROOM_MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_4xx_tracebacks": {"()": "pressroom.core.logging.NoTracebackForClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["no_4xx_tracebacks"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # One line per received and finished task (the sweeper every few seconds) is noise;
        # failures are still logged, and the executor logs each batch.
        **{name: {"level": env("CELERY_TASK_LOG_LEVEL", default="WARNING")}
           for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat")},
        # The openai engine and webhooks make many requests: failures are logged by their callers.
        "httpx": {"level": "WARNING"},
    },
}

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pressroom.api.authentication.ApiKeyAuthentication",
        "pressroom.api.authentication.WorkspaceSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["pressroom.api.permissions.HasScopes"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["pressroom.api.throttling.PerCredentialThrottle"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "pressroom.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    # `format` is ours (audit export: jsonl or csv), not a renderer switch.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pressroom API",
    "DESCRIPTION": "Content automation: jobs, screened artifacts, review, publication, audit and webhooks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {"securitySchemes": {"ApiKey": {"type": "http", "scheme": "bearer", "description": "pr_<prefix>_<secret>"}}},
    "SECURITY": [{"ApiKey": []}],
}

# --- Celery -----------------------------------------------------------------
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "out"),
        "data_folder_out": str(_BROKER_DIR / "out"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        # Exchange tables; kombu's default is ./control, relative to wherever the process started.
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A message not acknowledged within this many seconds (its worker died) is
        # handed to another worker. Must exceed the longest batch a worker runs.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
        "unacked_restore_throttle": 1,
        # Job priorities (0 = most urgent in Celery's Redis emulation).
        "priority_steps": list(range(10)),
        "sep": ":",
        "queue_order_strategy": "priority",
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE

# --- Pressroom --------------------------------------------------------------
# Namespaced settings with defaults in pressroom.conf; anything here overrides them.
PRESSROOM = {
    "MODEL_ROOT": env("PRESSROOM_MODEL_ROOT", default=str(VAR_DIR / "models")),
    "BATCH_SIZE": env.int("PRESSROOM_BATCH_SIZE", default=8),
    "BATCH_WAIT_SECONDS": env.float("PRESSROOM_BATCH_WAIT_SECONDS", default=0.25),
    "TEXT_WORKER_THREADS": env.int("PRESSROOM_TEXT_WORKER_THREADS", default=4),
    "DEVICE": env("PRESSROOM_DEVICE", default="auto"),
    "WEBHOOK_ALLOW_PRIVATE": env.bool("PRESSROOM_WEBHOOK_ALLOW_PRIVATE", default=False),
    "WEBHOOK_BACKOFF_SECONDS": env.float("PRESSROOM_WEBHOOK_BACKOFF_SECONDS", default=10),
    "SEMANTIC_INPUT_SCREENING": env("PRESSROOM_SEMANTIC_INPUT_SCREENING", default="request"),
    "METRICS_TOKEN": env("PRESSROOM_METRICS_TOKEN", default=None),
    "METRICS_ALLOWED_NETWORKS": env.list("PRESSROOM_METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"]),
    "WEBHOOK_PAUSE_AFTER_FAILURES": env.int("PRESSROOM_WEBHOOK_PAUSE_AFTER_FAILURES", default=10),
    "API_THROTTLE_RATE": env("PRESSROOM_API_THROTTLE_RATE", default="600/min"),
    "LEASE_SECONDS": env.int("PRESSROOM_LEASE_SECONDS", default=60),
    "JOB_MAX_ATTEMPTS": env.int("PRESSROOM_JOB_MAX_ATTEMPTS", default=3),
    # The filesystem broker drops the messages a killed worker had fetched (it has no
    # acknowledgements): a job still queued this long after its last message gets another.
    "REDISPATCH_SECONDS": env.int("PRESSROOM_REDISPATCH_SECONDS",
                                  default=30 if env("CELERY_BROKER_URL", default="filesystem://").startswith("filesystem") else 600),
    "SWEEP_SECONDS": env.float("PRESSROOM_SWEEP_SECONDS", default=10.0),
    # Never in the database: set it from a secret store in production.
    "AUDIT_SIGNING_KEY": env("PRESSROOM_AUDIT_SIGNING_KEY", default=None),
    "AUDIT_SIGNING_KEY_FILE": env("PRESSROOM_AUDIT_SIGNING_KEY_FILE", default=str(VAR_DIR / "audit-signing.key")),
    "AUDIT_CHECKPOINT_PATH": env("PRESSROOM_AUDIT_CHECKPOINT_PATH", default=str(VAR_DIR / "audit-checkpoints.jsonl")),
    "MEDIA_SERVE_MODE": env("PRESSROOM_MEDIA_SERVE_MODE", default=""),
    # Where CMSs reach this deployment: absolute links in webhooks (signed media links).
    "PUBLIC_URL": env("PRESSROOM_PUBLIC_URL", default=f"http://{env('PRESSROOM_BIND', default='127.0.0.1:8000')}"),
    "TOXICITY": {
        "variant": env("PRESSROOM_TOXICITY_VARIANT", default="original"),
        "checkpoint": env("PRESSROOM_TOXICITY_CHECKPOINT", default=None),
        "huggingface_config_path": env("PRESSROOM_TOXICITY_CONFIG", default=None),
    },
}
PRESSROOM["PLUGINS_CONFIG"] = env.json("PRESSROOM_PLUGINS_CONFIG", default={})
_models_json = env.json("PRESSROOM_MODELS", default={})
if _models_json:
    PRESSROOM["MODELS"] = _models_json

# Periodic work, run by `celery beat` with django-celery-beat's database scheduler (its
# tasks can be changed in the admin); the entries below are installed on start.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "pressroom-sweeper": {"task": "pressroom.jobs.sweep", "schedule": PRESSROOM["SWEEP_SECONDS"],
                          "options": {"queue": "sweeper", "expires": PRESSROOM["SWEEP_SECONDS"]}},
    "audit-checkpoints": {"task": "pressroom.audit.checkpoint", "schedule": env.float(
        "PRESSROOM_AUDIT_CHECKPOINT_INTERVAL_SECONDS", default=3600.0), "options": {"queue": "sweeper"}},
    # Scheduled artifacts whose time has come are published within this many seconds.
    "publish-due-artifacts": {"task": "pressroom.jobs.publish_due", "schedule": env.float(
        "PRESSROOM_PUBLISH_DUE_SECONDS", default=15.0), "options": {"queue": "sweeper", "expires": 60}},
}
