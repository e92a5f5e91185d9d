"""Settings, read from LINLI_* environment variables.

Demo defaults are safe only on loopback: with the built-in demo secret key or
data key, Linli accepts requests for loopback host names only, and it refuses
to start at all when LINLI_ALLOWED_HOSTS names any other host ("production
mode") while a demo secret is still in use. See docs/operations.md.
"""

from pathlib import Path
import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent  # the `linli` package
REPO_DIR = BASE_DIR.parent

DEMO_SECRET_KEY = "linli-demo-secret-key-not-for-production-8d1f0c2e"
# A fixed, published key so that `make demo` works out of the box. Production
# installations must set their own (see `linli rotate-data-key --generate`).
DEMO_DATA_KEY = "demo:ZGVtby1rZXktbGlubGktMjAyNi0wMDAwMDAwMDAwMDA="


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


DATA_DIR = Path(os.environ.get("LINLI_DATA_DIR") or (REPO_DIR / "var")).resolve()

SECRET_KEY = os.environ.get("LINLI_SECRET_KEY") or DEMO_SECRET_KEY
LINLI_DATA_KEY = os.environ.get("LINLI_DATA_KEY") or DEMO_DATA_KEY
DEBUG = _env_bool("LINLI_DEBUG", False)

LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
_hosts = [h.strip() for h in os.environ.get("LINLI_ALLOWED_HOSTS", "").split(",") if h.strip()]
PRODUCTION = any(h not in LOOPBACK_HOSTS for h in _hosts)
USING_DEMO_SECRETS = SECRET_KEY == DEMO_SECRET_KEY or LINLI_DATA_KEY == DEMO_DATA_KEY
if PRODUCTION and USING_DEMO_SECRETS:
    raise ImproperlyConfigured(
        "LINLI_ALLOWED_HOSTS names a non-loopback host, but LINLI_SECRET_KEY or "
        "LINLI_DATA_KEY is unset or still the published demo value. Set both "
        "(`linli rotate-data-key --generate` prints a new data key)."
    )
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("LINLI_DEBUG must be off when serving non-loopback hosts.")
ALLOWED_HOSTS = _hosts or list(LOOPBACK_HOSTS)
if "testserver" not in ALLOWED_HOSTS and not PRODUCTION:
    ALLOWED_HOSTS.append("testserver")  # Django's test client

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rules.apps.AutodiscoverRulesConfig",
    "linli.core",
    "linli.community",
    "linli.cases",
    "linli.notify",
    "linli.insight",
    "linli.books",
    "linli.transparency",
    "linli.disclosure",
    "linli.voting",
    "linli.points",
    "linli.deliberation",
    "linli.funds",
    "linli.evaluation",
    "linli.volunteers",
    "linli.canteen",
    "linli.services",
    # The demo community sits above every app: it seeds their histories through their services.
    "linli.demo",
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
]

ROOT_URLCONF = "linli.config.urls"
WSGI_APPLICATION = "linli.config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "linli.core.context_processors.linli",
                "linli.core.context_processors.menu",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'linli.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("LINLI_DATABASE_URL") or _default_db, conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE transactions make
    # concurrent writers queue instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (linli/core/signin.py, docs/operations.md "Sign-in"): (failures, within
# seconds, locked for seconds after the last). Per account: 5 in 15 minutes lock it for 15
# minutes, 20 in a day for a day. Per client address, whatever the accounts: 20 in 15 minutes.
LINLI_SIGNIN_ACCOUNT_LIMITS = ((5, 15 * 60, 15 * 60), (20, 24 * 3600, 24 * 3600))
LINLI_SIGNIN_ADDRESS_LIMITS = ((20, 15 * 60, 15 * 60),)
LINLI_SIGNIN_KEEP_DAYS = 90  # failed sign-ins are deleted after this many days
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]  # linli/static: the site-wide stylesheet
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve from the apps even before collectstatic
MEDIA_ROOT = DATA_DIR / "media"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = _env_bool("LINLI_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
LINLI_IMPORT_MAX_BYTES = 20 * 1024 * 1024
# The transparency log's checkpoint signing key (docs/transparency.md): a file outside the
# database, written by `linli disclosure keygen`; its key name defaults to the site's host.
LINLI_DISCLOSURE_KEY_FILE = os.environ.get("LINLI_DISCLOSURE_KEY_FILE") or str(DATA_DIR / "disclosure-signing.key")
LINLI_DISCLOSURE_KEY_NAME = os.environ.get("LINLI_DISCLOSURE_KEY_NAME", "")
LINLI_DISCLOSURE_HOST = os.environ.get("LINLI_DISCLOSURE_HOST", "")
LINLI_IMPORT_MAX_ROWS = 100_000

# Resident requests (docs/cases.md).
LINLI_ANONYMOUS_INTAKE = _env_bool("LINLI_ANONYMOUS_INTAKE", False)
# Behind a reverse proxy: the request header with the client address, e.g. HTTP_X_REAL_IP.
LINLI_CLIENT_IP_HEADER = os.environ.get("LINLI_CLIENT_IP_HEADER", "")
LINLI_UNRATED_POLICY = os.environ.get("LINLI_UNRATED_POLICY", "exclude")
if LINLI_UNRATED_POLICY not in {"exclude", "satisfied", "unsatisfied"}:
    raise ImproperlyConfigured("LINLI_UNRATED_POLICY must be exclude, satisfied or unsatisfied")
LINLI_VISIT_BACK_DAYS = int(os.environ.get("LINLI_VISIT_BACK_DAYS", "7"))
LINLI_TRIAGE_CONFIDENCE = float(os.environ.get("LINLI_TRIAGE_CONFIDENCE", "0.5"))
LINLI_VOLUNTEER_SUMMARY_DAY = int(os.environ.get("LINLI_VOLUNTEER_SUMMARY_DAY", "5"))
if not 1 <= LINLI_VOLUNTEER_SUMMARY_DAY <= 28:
    raise ImproperlyConfigured("LINLI_VOLUNTEER_SUMMARY_DAY must be a day from 1 to 28")

# E-mail for notifications (docs/notifications.md, docs/operations.md "E-mail"). With
# LINLI_EMAIL_HOST set, SMTP; otherwise e-mail is not configured (Django's dummy backend):
# nothing is sent, nothing is marked as e-mailed, the worker says "e-mail not configured" and
# the system check linli.W001 warns at start-up. LINLI_EMAIL_BACKEND=console prints the messages
# to the worker's log instead (development only: it logs addresses).
_email_backends = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}
_email_backend = os.environ.get("LINLI_EMAIL_BACKEND") or (
    "smtp" if os.environ.get("LINLI_EMAIL_HOST") else "dummy")
EMAIL_BACKEND = _email_backends.get(_email_backend, _email_backend)
EMAIL_HOST = os.environ.get("LINLI_EMAIL_HOST") or "localhost"
EMAIL_PORT = int(os.environ.get("LINLI_EMAIL_PORT") or 587)
EMAIL_HOST_USER = os.environ.get("LINLI_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("LINLI_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("LINLI_EMAIL_TLS", True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("LINLI_EMAIL_FROM") or "linli@localhost"

# Logs carry ids and verbs, never personal data: values of protected fields
# render masked through their __str__, and request bodies are never logged.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LINLI_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "INFO"},
    },
}
