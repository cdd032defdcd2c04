"""Settings for the partner portal, read from the environment (django-environ).

Nothing set gives the quick start: SQLite file, in-process Celery tasks, local-memory cache.
`DATABASE_URL` switches to PostgreSQL (psycopg 3), `REDIS_URL` to a Redis broker and cache.
With `DEBUG` off, `SECRET_KEY` is required and the production hardening below applies.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: DEBUG on and no key given.
    SECRET_KEY = "dev-only-insecure-key-never-used-with-debug-off-0123456789abcdef"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "simple_history",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "portal",
    "scoring",
    "benefits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.organizations",
                "portal.context_processors.organization_tabs",
                "portal.context_processors.signup_open",
            ],
        },
    },
]

# An empty DATABASE_URL counts as unset, like a missing one: the SQLite file.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The portal's queries are short; PostgreSQL's JIT spends more compiling them than it saves
    # (measured on the scoring statements: about a fifth of their time).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# Persistent connections (seconds; 0 = one per request), checked before reuse: the portal's
# processes keep their connection, and with it the prepared scoring statement below.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The scoring's measures statement (≈ 120 KB of SQL) is prepared on PostgreSQL, so that a
# connection plans it once per shape (60–70 ms) and not at every run; off behind a pooler in
# transaction mode (PgBouncer), where a prepared statement does not outlive the transaction.
SCORING_PREPARED_STATEMENTS = env.bool("SCORING_PREPARED_STATEMENTS", default=True)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "home"
LOGIN_URL = "account_login"

# django-allauth: e-mail only, verified, rate-limited; TOTP and recovery codes.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("LOGIN_RATE_LIMIT", default="5/5m/ip,5/5m/key"),
}
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
# Through an invitation, sign-up is for the invited address only (the form fixes it).
ACCOUNT_FORMS = {"signup": "portal.forms.SignupForm"}
OPEN_SIGNUP = env.bool("OPEN_SIGNUP", default=False)
ACCOUNT_EMAIL_SUBJECT_PREFIX = env.str("EMAIL_SUBJECT_PREFIX", default="[Partner portal] ")
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Solutions Partner portal")

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ja", _("Japanese"))]
# The portal's own catalogue first; then its Japanese wording of third-party strings.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "third_party"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Uploaded files (the staff import's files and reports): on disk, never served as static files.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: a Redis broker when REDIS_URL is set; otherwise the same tasks run in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="portal")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
NIGHTLY_RECOMPUTE_HOUR = env.int("NIGHTLY_RECOMPUTE_HOUR", default=2)
NIGHTLY_RECOMPUTE_MINUTE = env.int("NIGHTLY_RECOMPUTE_MINUTE", default=30)
SCORING_CHUNK_SIZE = env.int("SCORING_CHUNK_SIZE", default=250)
# Worker processes for the chunks of one synchronous recompute (`recompute_scores`; PostgreSQL
# only). The nightly run spreads its chunks over the Celery workers instead.
SCORING_WORKERS = env.int("SCORING_WORKERS", default=1)
CELERY_BEAT_SCHEDULE = {
    "nightly-score-recompute": {
        "task": "scoring.recompute_nightly",
        "schedule": crontab(hour=NIGHTLY_RECOMPUTE_HOUR, minute=NIGHTLY_RECOMPUTE_MINUTE),
    },
    # Designation statuses and notifications read the night's scores: two hours later.
    "nightly-benefits": {
        "task": "benefits.nightly",
        "schedule": crontab(
            hour=(NIGHTLY_RECOMPUTE_HOUR + 2) % 24, minute=NIGHTLY_RECOMPUTE_MINUTE
        ),
    },
    "daily-certification-expiry-webhooks": {
        "task": "portal.certification_expiry_webhooks",
        "schedule": crontab(hour=6, minute=0),
    },
}
# Webhooks (portal.webhooks): attempts per delivery (exponential backoff between them), failed
# deliveries in a row before an endpoint is disabled, the receiver's time to answer. Plain-HTTP
# URLs only on loopback, and only when allowed (development, tests).
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=5)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_ALLOW_HTTP_LOOPBACK = env.bool("WEBHOOK_ALLOW_HTTP_LOOPBACK", default=DEBUG)

# The REST API (`/api/v1/`, portal.api): sessions or API keys, the one error shape, cursor
# pagination, a request budget per key or user, bulk uploads bounded in rows and bytes.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="1200/min")
API_BULK_RATE_LIMIT = env.str("API_BULK_RATE_LIMIT", default="60/min")
API_BULK_MAX_ROWS = env.int("API_BULK_MAX_ROWS", default=100_000)
API_BULK_MAX_BYTES = env.int("API_BULK_MAX_BYTES", default=50 * 1024 * 1024)
# Batches with more rows than this are run by Celery: 202 and a job to poll.
API_BULK_ASYNC_ROWS = env.int("API_BULK_ASYNC_ROWS", default=5_000)
API_IDEMPOTENCY_TTL_HOURS = env.int("API_IDEMPOTENCY_TTL_HOURS", default=24)
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.auth.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api.auth.IsAuthenticatedCaller"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.ApiCursorPagination",
    "DEFAULT_THROTTLE_CLASSES": ["portal.api.throttling.CallerRateThrottle"],
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Solutions Partner portal API",
    "DESCRIPTION": (
        "Partner Capability Scores, people, certifications and telemetry of the Solutions "
        "Partner program. Authenticate with `Authorization: Bearer <key>` (an organization key "
        "from Settings → API keys, or a platform key from program staff) or a browser session. "
        "Organization resources live under `/api/v1/orgs/{partner_id}/`; a Partner ID the "
        "caller may not see is a 404. Every error has the shape "
        '`{"type": …, "errors": [{"code", "detail", "attr"}]}`. Lists are cursor-paginated '
        "(`next` / `previous` links). Writes accept an `Idempotency-Key` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema generator is machinery, like the admin: it asks models for an empty queryset
    # through the default manager (a tenant model's `objects` refuses unscoped queries).
    "DEFAULT_QUERY_MANAGER": "_default_manager",
    "ENUM_NAME_OVERRIDES": {
        "AssociationTypeEnum": "scoring.models.AssociationType",
        "ErrorTypeEnum": ["validation_error", "client_error", "server_error"],
        "BenefitUnitEnum": "benefits.models.BenefitProduct.Unit",
        "DesignationStatusEnum": "benefits.models.DesignationStatus",
        "RenewalOptionEnum": "benefits.models.RenewalOption",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Production hardening: on whenever DEBUG is off (`manage.py check --deploy` is clean).
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
