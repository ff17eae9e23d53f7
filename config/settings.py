"""Tawasul settings: one module, driven by the environment.

Every value a deployment may change is read from an environment variable;
README.md lists them. The defaults give the embedded set-up of `make run`:
SQLite in WAL mode, Huey on SQLite storage, no external server.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

django_stubs_ext.monkeypatch()  # generic admin/queryset classes at run time (typing)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TAWASUL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a key generated once into var/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "huey.contrib.djhuey",
    "ninja",
    "treebeard",
    "axes",
    "anymail",
    "tawasul.core",
    "tawasul.directory",
    "tawasul.beneficiaries",
    "tawasul.cases",
    "tawasul.channels",
    "tawasul.sla",
    "tawasul.feedback",
    "tawasul.meetings",
    "tawasul.api",
    "tawasul.portal",
    "tawasul.console",
    "tawasul.insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "tawasul.core.middleware.RememberedLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the locked page
]

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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tawasul.portal.context.portal",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'tawasul.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock
    # at BEGIN so two writers queue on busy_timeout instead of failing to upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

# A read replica (docs/decisions/0010-read-replica.md): dashboards, reports and open
# statistics read there inside `tawasul.core.replica.reads_from_replica()`. In tests it
# mirrors the default test database (no second database is created).
TAWASUL_REPLICA_DATABASE_URL = os.environ.get("TAWASUL_REPLICA_DATABASE_URL", "")
if TAWASUL_REPLICA_DATABASE_URL:
    replica = dj_database_url.parse(
        TAWASUL_REPLICA_DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0"))
    )
    if replica["ENGINE"] == DATABASES["default"]["ENGINE"]:
        # The default's connection options (SQLite: WAL, busy timeout), the URL's own on top.
        replica["OPTIONS"] = {
            **DATABASES["default"].get("OPTIONS", {}),
            **replica.get("OPTIONS", {}),
        }
    if replica["ENGINE"] == "django.db.backends.sqlite3":
        # A reader begins DEFERRED: IMMEDIATE would take the one write lock (and, in tests,
        # wait behind the default connection's open transaction).
        replica.setdefault("OPTIONS", {})["transaction_mode"] = "DEFERRED"
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = replica
    DATABASE_ROUTERS = ["tawasul.core.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Queue and cache ----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
HUEY_WORKERS = int(os.environ.get("HUEY_WORKERS", "2"))
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("HUEY_NAME", "tawasul"),
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": HUEY_WORKERS, "worker_type": "thread"},
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "tawasul"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": os.environ.get("HUEY_NAME", "tawasul"),
        "filename": str(VAR_DIR / os.environ.get("HUEY_FILE", "huey.sqlite3")),
        "immediate": False,
        "consumer": {"workers": HUEY_WORKERS, "worker_type": "thread"},
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "console:login"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses sign-in while locked out
    "django.contrib.auth.backends.ModelBackend",
]
# Failed sign-in lockout (django-axes): per username and address, lifted after an hour.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
# How many reverse proxies append to X-Forwarded-For in front of the app (0: none).
TAWASUL_TRUSTED_PROXIES = int(os.environ.get("TAWASUL_TRUSTED_PROXIES", "0"))
AXES_CLIENT_IP_CALLABLE = "tawasul.core.http.client_ip"  # lockouts count the same address
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "console/locked.html"
AXES_HTTP_RESPONSE_CODE = 403  # the locked page (axes 8 defaults to 429)
AXES_RESET_ON_SUCCESS = True

# --- Language and time ------------------------------------------------------------
LANGUAGE_CODE = "ar"
LANGUAGES = [("ar", _("Arabic")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "tawasul" / "locale"]
LANGUAGE_COOKIE_NAME = "tawasul_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Riyadh"  # shown in Riyadh time; stored in UTC

# --- Static and media -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
FILE_UPLOAD_PERMISSIONS = 0o640

# --- E-mail and SMS ---------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if not os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "تواصل <care@tawasul.example>")

SMS_BACKEND = os.environ.get("SMS_BACKEND", "tawasul.channels.sms.FileSmsGateway")
SMS_FILE_PATH = str(VAR_DIR / "sms")
SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = os.environ.get("SMS_HTTP_TOKEN", "")
SMS_SENDER = os.environ.get("SMS_SENDER", "Tawasul")
SMS_HTTP_TIMEOUT = float(os.environ.get("SMS_HTTP_TIMEOUT", "10"))

# --- Tawasul rules ----------------------------------------------------------------
# How long each process keeps reference rows (calendars, centres, SLA policies) it read.
TAWASUL_REFERENCE_MEMO_SECONDS = int(os.environ.get("TAWASUL_REFERENCE_MEMO_SECONDS", "60"))
# How long the console's queue tabs keep their counts (seconds; 0 counts on every page).
TAWASUL_QUEUE_COUNTS_SECONDS = int(os.environ.get("TAWASUL_QUEUE_COUNTS_SECONDS", "30"))
TAWASUL_MAX_TRANSFERS = int(os.environ.get("TAWASUL_MAX_TRANSFERS", "3"))
TAWASUL_ATTACHMENT_MAX_BYTES = int(os.environ.get("TAWASUL_ATTACHMENT_MAX_BYTES", str(10 << 20)))
TAWASUL_ATTACHMENT_TYPES = env_list(
    "TAWASUL_ATTACHMENT_TYPES",
    "application/pdf,image/jpeg,image/png,image/webp,image/heic,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
TAWASUL_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("TAWASUL_OUTBOX_MAX_ATTEMPTS", "8"))

# Channels (tawasul.channels): e-mail, social media, SMS and the call centre.
# A chat message from someone whose request from the same account is still open continues
# it within this many days; beyond, it opens a new request.
TAWASUL_CHANNEL_CONVERSATION_DAYS = int(os.environ.get("TAWASUL_CHANNEL_CONVERSATION_DAYS", "14"))
# Files kept from one inbound message (the rest are listed as refused; the original keeps them).
TAWASUL_CHANNEL_FILES_MAX = int(os.environ.get("TAWASUL_CHANNEL_FILES_MAX", "10"))
# The category code a request from a channel starts in when its account names none
# (empty: the first active category that takes the kind).
TAWASUL_CHANNEL_CATEGORY = os.environ.get("TAWASUL_CHANNEL_CATEGORY", "")
# Signed webhooks (social platforms, SMS receipts, telephony) older or newer than this are
# refused as replays.
TAWASUL_WEBHOOK_WINDOW_SECONDS = int(os.environ.get("TAWASUL_WEBHOOK_WINDOW_SECONDS", "300"))
# The largest original (raw e-mail, webhook payload) kept for review; larger ones are cut.
TAWASUL_INBOUND_RAW_MAX_BYTES = int(os.environ.get("TAWASUL_INBOUND_RAW_MAX_BYTES", str(30 << 20)))
# Mail providers' inbound webhooks (django-anymail): the basic-auth "user:password" the
# provider is configured to send. Unset, anymail would accept anyone: the webhooks answer
# 404 instead. Mailgun's signing key may also come from the account's webhook_secret.
ANYMAIL = {
    "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", ""),
    **(
        {"MAILGUN_WEBHOOK_SIGNING_KEY": os.environ["ANYMAIL_MAILGUN_SIGNING_KEY"]}
        if os.environ.get("ANYMAIL_MAILGUN_SIGNING_KEY")
        else {}
    ),
}
# Timeout of calls to the platforms' send APIs and to mail servers.
TAWASUL_CHANNEL_HTTP_TIMEOUT = float(os.environ.get("TAWASUL_CHANNEL_HTTP_TIMEOUT", "15"))
# Webhooks to partners: attempts before a delivery is failed, and seconds to wait for an answer.
TAWASUL_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("TAWASUL_WEBHOOK_MAX_ATTEMPTS", "8"))
TAWASUL_WEBHOOK_TIMEOUT = float(os.environ.get("TAWASUL_WEBHOOK_TIMEOUT", "10"))
# Webhook URLs must be public https addresses; allow this machine and private networks
# (plain http on localhost too) only for development, tests or an internal partner network.
TAWASUL_WEBHOOK_ALLOW_PRIVATE = env_bool("TAWASUL_WEBHOOK_ALLOW_PRIVATE", DEBUG)
TAWASUL_PORTAL_URL = os.environ.get("TAWASUL_PORTAL_URL", "http://127.0.0.1:8000")
# Reports: minutes a report may stay "being prepared" before its worker is taken for dead,
# and the tries (claims) a report gets before it stays failed.
TAWASUL_REPORT_STALL_MINUTES = int(os.environ.get("TAWASUL_REPORT_STALL_MINUTES", "30"))
TAWASUL_REPORT_MAX_ATTEMPTS = int(os.environ.get("TAWASUL_REPORT_MAX_ATTEMPTS", "3"))
# Satisfaction survey: how long an invitation link works; scores at or below this flag the request.
TAWASUL_SURVEY_TTL_DAYS = int(os.environ.get("TAWASUL_SURVEY_TTL_DAYS", "14"))
TAWASUL_SURVEY_LOW_SCORE = int(os.environ.get("TAWASUL_SURVEY_LOW_SCORE", "2"))
# Arabic text understanding (issue 12): where trained classifiers are kept, the confidence
# below which a suggestion abstains (manual triage), the fewest answered requests to train
# on, how far back similar requests are looked for, and the spike score that makes a rise
# an emerging issue.
TAWASUL_MODEL_DIR = Path(os.environ.get("TAWASUL_MODEL_DIR", VAR_DIR / "models"))
TAWASUL_SUGGESTION_THRESHOLD = float(os.environ.get("TAWASUL_SUGGESTION_THRESHOLD", "0.5"))
TAWASUL_CLASSIFIER_MIN_SAMPLES = int(os.environ.get("TAWASUL_CLASSIFIER_MIN_SAMPLES", "50"))
TAWASUL_SIMILAR_DAYS = int(os.environ.get("TAWASUL_SIMILAR_DAYS", "90"))
TAWASUL_EMERGING_SCORE = float(os.environ.get("TAWASUL_EMERGING_SCORE", "3.0"))
# Quality review: the share (%) of each centre's weekly answers sampled at random.
TAWASUL_QA_SAMPLE_PERCENT = int(os.environ.get("TAWASUL_QA_SAMPLE_PERCENT", "10"))
# SLA: a misrouted request sent back restarts its clock; an escalation also hands the
# request to the parent entity's centre (otherwise it only notifies its supervisors).
TAWASUL_SLA_RESTART_ON_RETURN = env_bool("TAWASUL_SLA_RESTART_ON_RETURN")
TAWASUL_SLA_ESCALATION_REASSIGN = env_bool("TAWASUL_SLA_ESCALATION_REASSIGN")
# Objections: business minutes after an answer during which the beneficiary may object
# (default 5 working days of 7 hours), and who reviews: supervisor | parent | central.
TAWASUL_OBJECTION_WINDOW_MINUTES = int(os.environ.get("TAWASUL_OBJECTION_WINDOW_MINUTES", "2100"))
TAWASUL_OBJECTION_REVIEWER = os.environ.get("TAWASUL_OBJECTION_REVIEWER", "supervisor")
# API: app access tokens live minutes, refresh tokens days; calls per minute for app and
# staff tokens (partner keys carry their own limit); how long an Idempotency-Key replays.
TAWASUL_API_ACCESS_MINUTES = int(os.environ.get("TAWASUL_API_ACCESS_MINUTES", "15"))
TAWASUL_API_REFRESH_DAYS = int(os.environ.get("TAWASUL_API_REFRESH_DAYS", "30"))
TAWASUL_API_RATE = int(os.environ.get("TAWASUL_API_RATE", "300"))
TAWASUL_API_IDEMPOTENCY_HOURS = int(os.environ.get("TAWASUL_API_IDEMPOTENCY_HOURS", "24"))
# Meet the minister (docs/decisions/0006-meetings.md): the minister's office (an entity code;
# empty: the root entity); the roles that screen (on the central centre's entity) and decide
# (on the office's entity); the eligibility rules in force and their figures; each step's
# target in business minutes of the central centre; reminders, minutes before a meeting.
TAWASUL_MINISTER_OFFICE = os.environ.get("TAWASUL_MINISTER_OFFICE", "")
TAWASUL_MEETING_SCREEN_ROLES = env_list(
    "TAWASUL_MEETING_SCREEN_ROLES", "agent,supervisor,centre_manager"
)
TAWASUL_MEETING_DECIDE_ROLES = env_list(
    "TAWASUL_MEETING_DECIDE_ROLES", "executive_viewer,administrator"
)
TAWASUL_MEETING_RULES = env_list("TAWASUL_MEETING_RULES", "settled_request,one_open,cooling_off")
TAWASUL_MEETING_MAX_OPEN = int(os.environ.get("TAWASUL_MEETING_MAX_OPEN", "1"))
TAWASUL_MEETING_COOLING_OFF_DAYS = int(os.environ.get("TAWASUL_MEETING_COOLING_OFF_DAYS", "180"))
TAWASUL_MEETING_SCREENING_MINUTES = int(os.environ.get("TAWASUL_MEETING_SCREENING_MINUTES", "1260"))
TAWASUL_MEETING_DECISION_MINUTES = int(os.environ.get("TAWASUL_MEETING_DECISION_MINUTES", "2100"))
TAWASUL_MEETING_SCHEDULING_MINUTES = int(
    os.environ.get("TAWASUL_MEETING_SCHEDULING_MINUTES", "2100")
)
TAWASUL_MEETING_REMINDER_MINUTES = [
    int(value) for value in env_list("TAWASUL_MEETING_REMINDER_MINUTES", "1440,120")
]

# --- Production hardening -----------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and "localhost" not in ALLOWED_HOSTS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
)

# Strict Content-Security-Policy: every script, style, image and font is our own file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SAMESITE = "Lax"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # A handler of its own keeps run_huey from adding a second one (doubled lines).
    "loggers": {
        "huey": {
            "handlers": ["console"],
            "level": os.environ.get("HUEY_LOG_LEVEL", "WARNING"),
            "propagate": False,
        },
        "axes": {"level": os.environ.get("AXES_LOG_LEVEL", "WARNING")},
    },
}
