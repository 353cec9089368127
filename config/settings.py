"""Inflow settings: one module, every value from the environment (django-environ).

With no environment at all, Inflow runs on its embedded default: SQLite, tasks executed
in-process, mail kept in the database outbox. Setting DATABASE_URL, REDIS_URL and EMAIL_URL
moves it to the production shape (PostgreSQL, Celery on Redis, SMTP). The README's
configuration table lists every variable read here.
"""

import datetime as dt
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "inflow-insecure-development-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "tenancy",
    "receivables",
    "dunning",
    "credit",
    "factoring",
    "insurance",
    "forecasting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tenancy.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenancy.middleware.UserLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenancy.middleware.OrganizationMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Production serves collected static files itself; in development runserver does.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"

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
                "tenancy.context_processors.organization",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Production keeps each worker's connection for a minute: a new one per request costs PostgreSQL a new
# backend with cold caches (20-30 ms of a 40-100 ms page, bench/README.md "Load test"). Checked before
# reuse at the start of each request, so a connection the server dropped is replaced, not an error.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with GROUP BY on every selected column: tenant primary keys are (id, organization_id).
    DATABASES["default"]["ENGINE"] = "tenancy.postgresql"
    # Reports are short OLTP queries: JIT compilation costs more than it saves (bench/aging.py).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend whose tables check tenant foreign keys with the organization, as PostgreSQL's do.
    DATABASES["default"]["ENGINE"] = "tenancy.sqlite3"
    # WAL and a busy timeout let the dev server and an in-process import share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses sign-ins (even correct ones) while the username or address is locked out.
    "tenancy.auth.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- Languages -------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static and media files ------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# Weekly report files (receivables/reporting/storage.py): served by no URL, like MEDIA_ROOT.
REPORTS_ROOT = env.path("REPORTS_ROOT", default=Path(str(MEDIA_ROOT)).parent / "reports")
MEDIA_URL = "/media/"
STORAGES = {
    # Uploads: random names, no public URL (tenancy/storage.py); pages serve them after an organization check.
    "default": {"BACKEND": "tenancy.storage.PrivateFileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=50 * 1024 * 1024)

# --- Cache, Celery ---------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
# The payment-date model is fitted on at most this many settled invoices, a uniform seeded sample
# (forecasting.services.training_rows_max): the 1,000,000-invoice training stays under two minutes.
FORECAST_TRAINING_ROWS = env.int("FORECAST_TRAINING_ROWS", default=300_000)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=1000)
# A worker keeps its database connection across tasks, as a web process does between requests
# (CONN_MAX_AGE, health checks; config/celery.py closes what is obsolete or broken around each task).
# Celery's Django fix-up otherwise closes it after every task: each task paid a new PostgreSQL backend.
# Its own default: 0 means "never recycle" to CELERY_WORKER_MAX_TASKS_PER_CHILD but "close after every task" here.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TIMEZONE = "UTC"
# The periodic work, in one place: `celery -A config beat` fires it into Redis; without Redis,
# config/scheduler.py runs this same schedule in-process. Every task is safe to run twice.
CELERY_BEAT_SCHEDULE: dict = {
    # Enqueue the weekly aging report of each organization whose slot (weekday + local time) has come.
    "weekly-report-dispatch": {
        "task": "receivables.reporting.tasks.weekly_report_dispatch_task",
        "schedule": env.float("WEEKLY_REPORT_DISPATCH_SECONDS", default=300.0),
    },
    "invoice-overdue-events": {
        "task": "tenancy.tasks.invoice_overdue_events_task",
        "schedule": env.float("INVOICE_OVERDUE_SCAN_SECONDS", default=3600.0),
    },
    # Webhook deliveries whose back-off has run out get their next attempt (the only retries when
    # tasks run in-process; a safety net for lost retries with a worker).
    "webhook-deliveries-retry": {
        "task": "tenancy.tasks.webhook_deliveries_retry_task",
        "schedule": env.float("WEBHOOK_RETRY_SWEEP_SECONDS", default=60.0),
    },
    # Sign each organization's audit chain head (tenancy/checkpoints.py): a removed tail is detected.
    "audit-checkpoints": {
        "task": "tenancy.tasks.audit_checkpoints_task",
        "schedule": env.float("AUDIT_CHECKPOINT_SECONDS", default=3600.0),
    },
    "idempotency-records-purge": {
        "task": "tenancy.tasks.idempotency_purge_task",
        "schedule": 3600.0,
    },
    # Queue the daily dunning run of each organization whose local time has passed
    # DUNNING_RUN_HOUR and that has not run today (dunning.tasks).
    "dunning-dispatch": {
        "task": "dunning.tasks.dunning_dispatch_task",
        "schedule": env.float("DUNNING_DISPATCH_SECONDS", default=600.0),
    },
    # Credit: open the reviews whose next_review_on has come (idempotent); the alert scan and
    # digest mail run daily.
    "credit-reviews-dispatch": {
        "task": "credit.tasks.credit_reviews_dispatch_task",
        "schedule": env.float("CREDIT_REVIEW_DISPATCH_SECONDS", default=6 * 3600.0),
    },
    "credit-alerts-dispatch": {
        "task": "credit.tasks.credit_alerts_dispatch_task",
        "schedule": env.float("CREDIT_ALERT_DIGEST_SECONDS", default=24 * 3600.0),
    },
    # Factoring: the automatic repurchase (recourse, N days past due) and the advances of invoices paid to us
    # (silent factoring, discounting) repaid, once a day (factoring.tasks).
    "factoring-daily": {
        "task": "factoring.tasks.factoring_daily_dispatch_task",
        "schedule": env.float("FACTORING_DAILY_SECONDS", default=24 * 3600.0),
    },
    # Insurance: every insured invoice's deadlines recomputed, warnings raised once (insurance.tasks).
    "insurance-deadlines-dispatch": {
        "task": "insurance.tasks.insurance_deadlines_dispatch_task",
        "schedule": env.float("INSURANCE_DEADLINES_SECONDS", default=24 * 3600.0),
    },
    # Forecasting (in the worker): retrain each organization's payment-date model weekly; refresh the
    # open invoices' predictions and store the week's cash-forecast snapshot daily (once per week).
    "forecasting-retrain": {
        "task": "forecasting.tasks.payment_models_retrain_dispatch_task",
        "schedule": env.float("FORECAST_RETRAIN_SECONDS", default=7 * 24 * 3600.0),
    },
    "forecasting-daily": {
        "task": "forecasting.tasks.forecast_daily_dispatch_task",
        "schedule": env.float("FORECAST_DAILY_SECONDS", default=24 * 3600.0),
    },
}
# A worker child that grew past this (KiB) after a task, e.g. a 10,000-customer PDF, is replaced.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=600_000)
# With tasks eager (no broker), the web process runs the beat schedule in a thread
# (config/scheduler.py); false turns that off. Ignored when tasks go to a broker.
EMBEDDED_SCHEDULER = env.bool("EMBEDDED_SCHEDULER", default=True)

# --- Mail ------------------------------------------------------------------------------
# EMAIL_URL picks the transport: smtp://user:pass@host:port, smtp+tls://..., or the default
# "outbox:" which keeps every message in the database for the Outbox page.
EMAIL_URL = env.str("EMAIL_URL", default="outbox:")
if EMAIL_URL.startswith("outbox:"):
    EMAIL_BACKEND = "tenancy.mail.OutboxEmailBackend"
else:
    vars().update(env.email_url_config(EMAIL_URL))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Inflow <noreply@inflow.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST framework --------------------------------------------------------------------
# /api/v1/: API keys (Authorization: Bearer) or the browser session; JSON only; every error as
# {"error": {"code", "message", "fields"}} (tenancy.api.errors). Throttling is per API key.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenancy.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSONRenderer output, encoded by orjson (a page of 1,000 rows renders several times faster).
    "DEFAULT_RENDERER_CLASSES": ["tenancy.api.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["tenancy.api.parsers.JSONParser"],  # 400 on JSON nested too deeply
    "DEFAULT_FILTER_BACKENDS": ["tenancy.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "tenancy.api.schema.InflowAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["tenancy.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": env.str("API_KEY_THROTTLE_RATE", default="1200/min"),
        "api_session": env.str("API_SESSION_THROTTLE_RATE", default="600/min"),
    },
    "EXCEPTION_HANDLER": "tenancy.api.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATE_FORMAT": "iso-8601",
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Inflow API",
    "DESCRIPTION": (
        "Receivables for ERP integration: push customers, invoices and payments (one by one or in bulk, "
        "keyed on external_id), retry safely with Idempotency-Key, sync changes with updated_since and "
        "cursors, pull aging, DSO and statements, and receive signed webhooks. Authenticate with "
        "`Authorization: Bearer <API key>`. Amounts are decimal strings, dates ISO 8601."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "InvoiceStatusEnum": "receivables.models.InvoiceStatus",
        "CurrencyEnum": "tenancy.money.CURRENCY_CHOICES",
        "LanguageEnum": "tenancy.models.Language",
        "CustomerStatusEnum": "receivables.models.CustomerStatus",
        "PaymentMethodEnum": "receivables.models.PaymentMethod",
        "AllocationKindEnum": "receivables.models.AllocationKind",
        "InvoiceKindEnum": "receivables.models.InvoiceKind",
        "SignalKindEnum": "credit.models.SignalKind",
        "AlertKindEnum": "credit.models.AlertKind",
        "RoleEnum": "tenancy.models.Role",
        "DeclarationKindEnum": "insurance.models.DeclarationKind",
        "CoverDecisionEnum": "insurance.models.Decision",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Idempotency-Key records are replayed for this long, and a claim left "in progress" by a
# crashed worker (its work rolled back with it) may be taken over after API_IDEMPOTENCY_LOCK_SECONDS.
API_IDEMPOTENCY_TTL_HOURS = env.int("API_IDEMPOTENCY_TTL_HOURS", default=24)
API_IDEMPOTENCY_LOCK_SECONDS = env.int("API_IDEMPOTENCY_LOCK_SECONDS", default=300)
API_PAGE_SIZE = env.int("API_PAGE_SIZE", default=100)
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=1000)
API_BULK_MAX_ROWS = env.int("API_BULK_MAX_ROWS", default=10_000)
# Webhooks: attempts per delivery (exponential back-off from WEBHOOK_RETRY_BASE_SECONDS) and the
# HTTP timeout of one attempt.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Endpoints on private, loopback, link-local, reserved or multicast addresses are refused (no
# server-side request forgery against the internal network); only for local development and tests.
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)

# --- Security (production values; `manage.py check --deploy` is clean with DEBUG=0) ------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# Trust X-Forwarded-Proto only behind a proxy that sets it: exposed directly, a client could
# send the header and pass a plain HTTP request off as HTTPS.
if env.bool("BEHIND_PROXY", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
# The reverse proxies in front of the app that append the client's address to X-Forwarded-For
# (0: clients connect directly; REMOTE_ADDR is the client). tenancy/net.py reads the client from it
# for the sign-in lockout and the portal's rate limit.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT failures for one username or from one
# address, sign-ins from it are refused for AXES_COOLOFF_MINUTES; every attempt is kept.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_CLIENT_IP_CALLABLE = "tenancy.auth.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "tenancy.auth.login_locked_out"
AXES_HTTP_RESPONSE_CODE = 429
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy of every response (tenancy/csp.py; {nonce} is the response's nonce).
# Styles may be inline (style="" attributes in pages and mail previews); scripts may not.
CONTENT_SECURITY_POLICY = env.str("CONTENT_SECURITY_POLICY", default=(
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"))

# --- Inflow ----------------------------------------------------------------------------
# Absolute base URL for links in mail (customer portal links, report links).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Imports with more rows than this run as a background task with a progress bar.
IMPORT_BACKGROUND_ROWS = env.int("IMPORT_BACKGROUND_ROWS", default=2000)
# Without a worker (eager tasks, no Redis: the embedded default) the importer's tasks (reading an
# upload, a large import) run in a thread of the server, so no request waits for them and the
# progress bar moves (receivables/importing/dispatch.py).
IMPORT_TASKS_IN_THREAD = CELERY_TASK_ALWAYS_EAGER and not REDIS_URL
# Import limits, checked before a file is parsed (receivables/importing/reader.py).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
IMPORT_MAX_XLSX_EXPANDED_BYTES = env.int("IMPORT_MAX_XLSX_EXPANDED_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=50_000)
# The most rows a list page's download holds. Both are written inside the request (CSV streamed, XLSX
# built by openpyxl at about 0.3-0.7 ms a row), so they stay well inside gunicorn's 30 s worker timeout.
EXPORT_XLSX_MAX_ROWS = env.int("EXPORT_XLSX_MAX_ROWS", default=20_000)
EXPORT_CSV_MAX_ROWS = env.int("EXPORT_CSV_MAX_ROWS", default=200_000)
# Dunning: the daily run starts once the organization's local time passes this hour.
DUNNING_RUN_HOUR = env.int("DUNNING_RUN_HOUR", default=8)
DUNNING_PORTAL_LINK_DAYS = env.int("DUNNING_PORTAL_LINK_DAYS", default=30)
DUNNING_PORTAL_RATE_PER_MINUTE = env.int("DUNNING_PORTAL_RATE_PER_MINUTE", default=60)
# Requests with an invalid or expired portal link, per client address and minute (valid links
# have their own budget each, DUNNING_PORTAL_RATE_PER_MINUTE).
DUNNING_PORTAL_INVALID_PER_MINUTE = env.int("DUNNING_PORTAL_INVALID_PER_MINUTE", default=20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Quiet by default: WeasyPrint logs every layout step and fontTools every subset at INFO, each
    # in-process task logs a line, and kombu warns about the in-memory broker of the embedded default.
    "loggers": {
        "weasyprint": {"level": env.str("WEASYPRINT_LOG_LEVEL", default="WARNING")},
        "fontTools": {"level": "WARNING"},
        "celery.app.trace": {"level": env.str("TASK_LOG_LEVEL", default="WARNING")},
        "kombu.connection": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}
