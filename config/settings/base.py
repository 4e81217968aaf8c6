"""Settings shared by every environment. Everything an operator sets comes from the
environment (CONTRACT section 1); `.env.example` lists each variable."""

import os
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ

from core.knobs import (
    parse_choice,
    parse_duration,
    parse_duration_at_least,
    parse_duration_list,
    parse_non_negative_int,
    parse_positive_int,
    parse_quiet_hours,
    parse_registration_number,
    parse_required_text,
)

# Lets admin.ModelAdmin[Model] and friends be subscripted at run time (typing only).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var")  # SQLite, embedded broker, beat state, mail

env = environ.Env()

# --- Core -------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")  # each environment decides whether a default is safe
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
SITE_URL = env("SITE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "axes",
    "core",
    "accounts",
    "roles",
    "leads",
    "consultations",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "core.middleware.ApiRequestSizeLimitMiddleware",  # after Locale: its message is translated
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'urakata.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles the matching queries for ~700 ms to save a few: off for this
    # OLTP workload (bench/RESULTS.md, "Matching").
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # Lets the few hot statements that ask for it (core.db.prepared_cursor: partner key lookup,
    # lead intake) be prepared once per connection. Django's own cursors bind on the client and
    # never prepare, so nothing else changes (bench/RESULTS.md, "Lead intake").
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "urakata",
            # A cache that does not answer must not hang a request: fail fast.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Accounts and security ----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Admin logins: five failures for one username from one address lock it for an hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the admin form's field; the default would be USERNAME_FIELD (email)
AXES_SENSITIVE_PARAMETERS = ["password"]

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- I18n: Japanese first, English available ----------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Email --------------------------------------------------------------------------------
if env("EMAIL_URL", default=""):
    # smtp://user:pass@host:587/?tls=True, consolemail://, filemail:///path, ...
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
    EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Urakata <no-reply@urakata.example>")
EMAIL_TIMEOUT = 10  # every outbound call has a timeout

# --- Channels to candidates (core/channels): email above, SMS and LINE here -------------------
# SMS: "twilio" (Twilio's API, settings below), "console", "file" (SMS_FILE_PATH), "memory"
# (tests), or the dotted path of a class with send(message). Empty: SMS is off and
# candidates who prefer it get email (said once at start-up).
SMS_BACKEND = env("SMS_BACKEND", default="")
SMS_FILE_PATH = env("SMS_FILE_PATH", default=str(VAR_DIR / "sms.jsonl"))
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")  # E.164, or a messaging service:
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", default="https://api.twilio.com")
TWILIO_TIMEOUT = env.float("TWILIO_TIMEOUT", default=10.0)  # seconds, connect and read each
# LINE Messaging API push (line-bot-sdk); on when the channel access token is set (or
# LINE_BACKEND names a class). The webhook (/line/webhook) needs the channel secret.
LINE_CHANNEL_ACCESS_TOKEN = env("LINE_CHANNEL_ACCESS_TOKEN", default="")
LINE_CHANNEL_SECRET = env("LINE_CHANNEL_SECRET", default="")
LINE_BACKEND = env("LINE_BACKEND", default="") or (
    "core.channels.line.LineMessagingApi" if LINE_CHANNEL_ACCESS_TOKEN else ""
)
LINE_API_BASE_URL = env("LINE_API_BASE_URL", default="https://api.line.me")
LINE_CONNECT_TIMEOUT = env.float("LINE_CONNECT_TIMEOUT", default=3.0)  # seconds
LINE_READ_TIMEOUT = env.float("LINE_READ_TIMEOUT", default=10.0)
# The official account's basic ID ("@123abcde"): the booking page's "add" and "send the
# code" links. Empty: the page shows no LINE option.
LINE_BOT_BASIC_ID = env("LINE_BOT_BASIC_ID", default="")
LINE_LINK_CODE_TTL = parse_duration("LINE_LINK_CODE_TTL", env("LINE_LINK_CODE_TTL", default="30m"))

# --- Webhooks to partners (CONTRACT section 7) ----------------------------------------------
# Lifts the SSRF guard (http and private, loopback or link-local receivers): development and
# tests only; production settings refuse it.
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
# A delivery is a success only with a 2xx within this long (connect and read together).
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=15.0)
# Requests one delivery process makes at once, and to one endpoint at most: a slow or dead
# receiver ties up its own share, never the other partners' (leads.partners.webhook_delivery).
WEBHOOK_THREADS = parse_positive_int("WEBHOOK_THREADS", env("WEBHOOK_THREADS", default="16"))
WEBHOOK_ENDPOINT_CONCURRENCY = parse_positive_int(
    "WEBHOOK_ENDPOINT_CONCURRENCY", env("WEBHOOK_ENDPOINT_CONCURRENCY", default="4")
)
# Delivery runs at once across the workers (each a Celery task holding one worker slot).
WEBHOOK_DISPATCHERS = parse_positive_int("WEBHOOK_DISPATCHERS", env("WEBHOOK_DISPATCHERS", default="2"))

# --- API ----------------------------------------------------------------------------------
API_MAX_BODY_BYTES = 64 * 1024  # CONTRACT section 3: larger bodies are 413
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    # Closed by default: a public endpoint says so explicitly.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_METADATA_CLASS": None,  # OPTIONS answers 405: the OpenAPI document describes the API
    "DEFAULT_PAGINATION_CLASS": "core.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_standardized_errors.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "core.errors.ApiExceptionHandler",
    "EXCEPTION_FORMATTER_CLASS": "core.errors.ApiExceptionFormatter",
    # One documented 400 shape (the formatter folds codes into the contract's few).
    "ERROR_SCHEMAS": {
        "400": "core.openapi.BadRequestResponseSerializer",
        "403": "core.openapi.ClientErrorResponseSerializer",
    },
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "405", "406", "415", "429", "500"],
}
_ERROR_ENUMS = "drf_standardized_errors.openapi_serializers"
SPECTACULAR_SETTINGS = {
    "TITLE": "Urakata API",
    "DESCRIPTION": "Partner lead intake, public role catalogue and consultation booking.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our own static files, no third-party CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": f"{_ERROR_ENUMS}.ValidationErrorEnum.choices",
        "ClientErrorEnum": f"{_ERROR_ENUMS}.ClientErrorEnum.choices",
        "ServerErrorEnum": f"{_ERROR_ENUMS}.ServerErrorEnum.choices",
        "ErrorCode401Enum": f"{_ERROR_ENUMS}.ErrorCode401Enum.choices",
        "ErrorCode403Enum": f"{_ERROR_ENUMS}.ErrorCode403Enum.choices",
        "ErrorCode404Enum": f"{_ERROR_ENUMS}.ErrorCode404Enum.choices",
        "ErrorCode405Enum": f"{_ERROR_ENUMS}.ErrorCode405Enum.choices",
        "ErrorCode406Enum": f"{_ERROR_ENUMS}.ErrorCode406Enum.choices",
        "ErrorCode415Enum": f"{_ERROR_ENUMS}.ErrorCode415Enum.choices",
        "ErrorCode429Enum": f"{_ERROR_ENUMS}.ErrorCode429Enum.choices",
        "ErrorCode500Enum": f"{_ERROR_ENUMS}.ErrorCode500Enum.choices",
        "BadRequestTypeEnum": "core.openapi.BAD_REQUEST_TYPES",
        "PartnerStatusEnum": "leads.models.PARTNER_STATUS_CHOICES",
        "PayoutLineKindEnum": "leads.models.PAYOUT_LINE_KIND_CHOICES",
        "KindEnum": "consultations.models.CONSULTATION_KIND_CHOICES",
        "BookingStatusEnum": "consultations.models.BOOKING_STATUS_CHOICES",
        "ConsultationModeEnum": "consultations.models.CONSULTATION_MODE_CHOICES",
        "CandidateStageEnum": "leads.candidates.serializers.CANDIDATE_STAGE_CHOICES",
        "SkillLevelEnum": "leads.models.SkillLevel",
        "OccupationEnum": "core.normalize.Occupation",
        "ApplicationStageEnum": "leads.models.applications.ApplicationStage",
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}

# --- Celery -------------------------------------------------------------------------------
# Default: kombu's filesystem transport, a broker that needs no server, so a newcomer's
# worker and beat really run. Production: redis://...
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://localhost//")
CELERY_BROKER_FOLDER = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(CELERY_BROKER_FOLDER),
        "data_folder_out": str(CELERY_BROKER_FOLDER),
        "control_folder": str(VAR_DIR / "broker-control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis redelivers an unacknowledged message after this long. It is above the
        # longest task's hard time limit and we never schedule ETAs longer than a few
        # minutes, so a message is redelivered only when its worker really died.
        "visibility_timeout": 3600,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 4
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # outcomes live in our own tables, not a result backend
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # short tasks, fair dispatch, nothing hoarded
CELERY_TASK_ACKS_LATE = False  # opted into per task, where the task is proven idempotent
CELERY_TASK_DEFAULT_QUEUE = "urakata"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
HEARTBEAT_SECONDS = parse_positive_int("HEARTBEAT_SECONDS", env("HEARTBEAT_SECONDS", default="60"))

# --- Business knobs (CONTRACT section 1) ----------------------------------------------------
CONSULTATION_MIN_NOTICE = parse_duration(
    "CONSULTATION_MIN_NOTICE", env("CONSULTATION_MIN_NOTICE", default="2h")
)
CONSULTATION_HORIZON = parse_duration("CONSULTATION_HORIZON", env("CONSULTATION_HORIZON", default="60d"))
CONSULTATION_REMINDER_OFFSETS = parse_duration_list(
    "CONSULTATION_REMINDER_OFFSETS", env("CONSULTATION_REMINDER_OFFSETS", default="24h,1h")
)
LEAD_CONTACT_SLA = parse_duration("LEAD_CONTACT_SLA", env("LEAD_CONTACT_SLA", default="2h"))
# A direct booking (no lead's link) holds its seat this long for the person to confirm it.
CONSULTATION_HOLD_TTL = parse_duration("CONSULTATION_HOLD_TTL", env("CONSULTATION_HOLD_TTL", default="30m"))
# The privacy policy people agree to on the direct booking page (/book/): its version is
# recorded with their consent, as a partner's lead records it; the page it links to.
PRIVACY_POLICY_VERSION = env("PRIVACY_POLICY_VERSION", default="2026-04")
PRIVACY_POLICY_URL = env("PRIVACY_POLICY_URL", default="/privacy/")
# Proxies in front of the web server that append to X-Forwarded-For (0: the header is
# ignored and the client is REMOTE_ADDR; anyone can forge the header).
TRUSTED_PROXY_COUNT = parse_non_negative_int("TRUSTED_PROXY_COUNT", env("TRUSTED_PROXY_COUNT", default="0"))
CANDIDATE_QUIET_HOURS = parse_quiet_hours(
    "CANDIDATE_QUIET_HOURS", env("CANDIDATE_QUIET_HOURS", default="21:00-08:00")
)
REMINDER_SWEEP_SECONDS = parse_positive_int(
    "REMINDER_SWEEP_SECONDS", env("REMINDER_SWEEP_SECONDS", default="60")
)
REMINDER_LEASE_SECONDS = parse_positive_int(
    "REMINDER_LEASE_SECONDS", env("REMINDER_LEASE_SECONDS", default="300")
)
# Rows one sweep claims at a time (each claim is one short transaction); a sweep that claims
# a full batch asks for a helper sweep, so a backlog spreads over the workers.
REMINDER_BATCH_SIZE = parse_positive_int("REMINDER_BATCH_SIZE", env("REMINDER_BATCH_SIZE", default="100"))
# Threads delivering one sweep's rows (each with its own database connection): sending is
# mostly waiting on the provider and on each row's commit.
REMINDER_SWEEP_THREADS = parse_positive_int(
    "REMINDER_SWEEP_THREADS", env("REMINDER_SWEEP_THREADS", default="8")
)
# A candidate in an active stage with no activity for this long is flagged to the advisor.
QUIET_CANDIDATE_AFTER = parse_duration("QUIET_CANDIDATE_AFTER", env("QUIET_CANDIDATE_AFTER", default="14d"))

# --- Invoices to employers (CONTRACT section 9) ---------------------------------------------
# The issuer printed on every qualified invoice (適格請求書) and its registration number (T and
# 13 digits). The defaults are the demo's; production requires both (config.settings.production).
INVOICE_ISSUER_NAME = parse_required_text(
    "INVOICE_ISSUER_NAME", env("INVOICE_ISSUER_NAME", default="株式会社ウラカタキャリア（デモ）")
)
INVOICE_REGISTRATION_NUMBER = parse_registration_number(
    "INVOICE_REGISTRATION_NUMBER", env("INVOICE_REGISTRATION_NUMBER", default="T1234567890123")
)
# How the consumption tax (once per invoice and rate) is rounded to the yen: down (切り捨て,
# the usual choice), half_up (四捨五入) or up (切り上げ).
INVOICE_TAX_ROUNDING = parse_choice(
    "INVOICE_TAX_ROUNDING", env("INVOICE_TAX_ROUNDING", default="down"), ("down", "half_up", "up")
)

# --- Logging: no personal data; request paths can hold tokens, so access logs are off --------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # django-axes logs usernames (email addresses) at WARNING: personal data stays out.
        "axes": {"level": "ERROR"},
        # Twilio's client logs every request and its headers at INFO: our log keeps ids only.
        "twilio.http_client": {"level": "WARNING"},
    },
}

# --- Leads --------------------------------------------------------------------------------
BOOKING_TOKEN_TTL = parse_duration("BOOKING_TOKEN_TTL", env("BOOKING_TOKEN_TTL", default="14d"))
# A later partner takes the credit for a candidate only once the credited lead is older
# than this (the earlier source has lapsed); until then the first partner keeps it.
LEAD_ATTRIBUTION_WINDOW = parse_duration(
    "LEAD_ATTRIBUTION_WINDOW", env("LEAD_ATTRIBUTION_WINDOW", default="90d")
)
PARTNER_SIGNATURE_MAX_AGE = 300  # seconds (CONTRACT section 3)
# Candidates closed, or never reached, for longer than this (and with no lead or contact
# meanwhile) are anonymised by the daily retention task. 3 years: the third-party provision
# records must be kept 3 years from the provision (APPI art. 30 and its rules), the
# placement ledgers 2 years (職業安定法施行規則); past both, APPI art. 22 asks us to delete
# data we no longer need. Never below 2 years, so that a typo cannot erase the ledgers.
RETENTION_PERIOD = parse_duration_at_least(
    "RETENTION_PERIOD", env("RETENTION_PERIOD", default="1095d"), timedelta(days=730)
)
