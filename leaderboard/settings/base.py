"""Settings shared by every environment, read from environment variables with django-environ.

With no environment variables at all the site runs embedded: SQLite and Celery's filesystem
transport, both under ``./var``. ``DATABASE_URL`` and ``CELERY_BROKER_URL`` switch to PostgreSQL
and Redis. https://docs.djangoproject.com/en/5.2/ref/settings/
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from leaderboard.sso import oidc_providers

BASE_DIR = Path(__file__).resolve().parents[2]

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# Everything the site writes at run time (database, queue, uploads, compiled data sets).
VAR_DIR = Path(env.str("LEADERBOARD_VAR_DIR", default=str(BASE_DIR / "var")))

# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key (no default here on purpose)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files served from here: the docs work offline
    "axes",  # failed logins counted, then locked out (below)
    "leaderboard",
    # Accounts (below): after ``leaderboard`` so that its templates under account/ win.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leaderboard.urls"
WSGI_APPLICATION = "leaderboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has the web server, a worker and beat writing one file: WAL lets
    # reads go on during a write, IMMEDIATE takes the write lock when a transaction begins (no
    # upgrade deadlocks), and a writer waits for the lock instead of failing at once.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-notes
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The first backend refuses a login that django-axes has locked out; the others check passwords
# (allauth's takes an e-mail address as well as a username).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "challenge_list"
LOGOUT_REDIRECT_URL = "challenge_list"

# --- Login throttling: django-axes ------------------------------------------------------------
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
# LOGIN_FAILURE_LIMIT wrong passwords for one username from one address lock that pair out for
# LOGIN_LOCKOUT_MINUTES: the page answers 429 and even the right password is refused. Another
# user, or the same user elsewhere, is not affected; API tokens never go through this.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a typo now and then never adds up to a lockout
AXES_LOCKOUT_CALLABLE = "leaderboard.login_throttle.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # failures are kept; successful logins are not logged
AXES_VERBOSE = False  # no banner on every manage.py command; lockouts are still logged
# Reverse proxies in front of the site that append to X-Forwarded-For (0: none, use the peer's
# address): leaderboard/login_throttle.py.
LOGIN_PROXY_COUNT = env.int("LOGIN_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "leaderboard.login_throttle.client_ip"
# The login form takes a username or an address: both count against the one account.
AXES_USERNAME_CALLABLE = "leaderboard.login_throttle.login_name"

# --- Accounts: django-allauth ------------------------------------------------------------------
# https://docs.allauth.org/en/latest/account/configuration.html
# Sign-up asks for an e-mail address (password resets and course mail need one) and mails a
# link to verify it. Verification is optional by default: a student signs up and submits in the
# same lab session even when the university's mail is slow, and accounts made before addresses
# were verified keep logging in. "mandatory" refuses a login until the address is verified.
ACCOUNT_ADAPTER = "leaderboard.adapters.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "leaderboard.adapters.LoginForm",
    "signup": "leaderboard.adapters.SignupForm",
    "add_email": "leaderboard.adapters.AddEmailForm",
    "reset_password": "leaderboard.adapters.ResetPasswordForm",
}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional").lower()
if ACCOUNT_EMAIL_VERIFICATION not in ("mandatory", "optional", "none"):
    raise ImproperlyConfigured(
        f"ACCOUNT_EMAIL_VERIFICATION={ACCOUNT_EMAIL_VERIFICATION!r}: use mandatory, optional "
        "or none."
    )
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Arena] "
ACCOUNT_MAX_EMAIL_ADDRESSES = 5
ACCOUNT_SESSION_REMEMBER = True  # as before: no "remember me" box, the session lasts
# A mail to the account's address when its password or its addresses change (so a change made
# by someone else does not go unnoticed).
ACCOUNT_EMAIL_NOTIFICATIONS = True
# django-axes counts failed logins per account and address (above), so allauth's own login
# limits are off: its 30 logins a minute per address would refuse a lab of students behind one
# university NAT. For the same reason sign-ups are 100 a minute per address (allauth: 20); its
# limits per address typed (reset and verification mails) stay as allauth sets them.
# https://docs.allauth.org/en/latest/account/rate_limits.html
ACCOUNT_RATE_LIMITS = {"login_failed": False, "login": False, "signup": "100/m/ip"}
ALLAUTH_TRUSTED_PROXY_COUNT = LOGIN_PROXY_COUNT  # the client's address, as for lockouts

# --- Single sign-on with a university's OpenID Connect provider (off unless configured) -------
# https://docs.allauth.org/en/latest/socialaccount/providers/openid_connect.html
# OIDC_PROVIDER_URL is the issuer (its /.well-known/openid-configuration is read at login);
# the provider's redirect URI for this site is SITE_URL/accounts/oidc/<OIDC_PROVIDER_ID>/login/
# callback/. Without OIDC_PROVIDER_URL there is no button and nothing is configured.
SOCIALACCOUNT_STORE_TOKENS = False  # the provider's tokens are not needed after login
SOCIALACCOUNT_PROVIDERS = oidc_providers(
    url=env.str("OIDC_PROVIDER_URL", default=""),
    client_id=env.str("OIDC_CLIENT_ID", default=""),
    secret=env.str("OIDC_CLIENT_SECRET", default=""),
    name=env.str("OIDC_NAME", default="University login"),
    provider_id=env.str("OIDC_PROVIDER_ID", default="university"),
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# https://docs.djangoproject.com/en/5.2/howto/static-files/ (served by WhiteNoise)
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
# The usual finders, plus plotly.js from the installed plotly package (charts work offline).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "leaderboard.staticfinders.PlotlyFinder",
]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Uploads always stream to a temporary file on disk, never into memory.
# https://docs.djangoproject.com/en/5.2/topics/http/file-uploads/#upload-handlers
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
# On the same filesystem as MEDIA_ROOT, so that storing an upload is a rename, not a copy.
FILE_UPLOAD_TEMP_DIR = env.str("DJANGO_FILE_UPLOAD_TEMP_DIR", default=str(VAR_DIR / "tmp"))
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_PERMISSIONS = 0o640
# When an upload is over the cap, read and discard at most this much more of the request so the
# browser gets a proper answer; beyond it the connection is cut instead.
UPLOAD_DRAIN_MAX_BYTES = env.int("UPLOAD_DRAIN_MAX_BYTES", default=8 * 2**20)
# Hosting from the browser: who may create a challenge (staff and users with the
# ``add_challenge`` permission always; everyone signed in when this is on), the largest
# uploaded set (refused before its body is read), and the caps on what an archive may unpack to.
HOSTS_SELF_SERVE = env.bool("HOSTS_SELF_SERVE", default=False)
DATASET_UPLOAD_MAX_BYTES = env.int("DATASET_UPLOAD_MAX_BYTES", default=2 * 2**30)
DATASET_UNPACK_MAX_BYTES = env.int("DATASET_UNPACK_MAX_BYTES", default=8 * 2**30)
DATASET_UNPACK_MAX_FILES = env.int("DATASET_UNPACK_MAX_FILES", default=2_000_000)
# Free model checks (public samples only) a user may run per hour.
MODEL_CHECKS_PER_HOUR = env.int("MODEL_CHECKS_PER_HOUR", default=20)

# Compiled hidden test sets live under DATA_ROOT; a challenge stores a path relative to it so
# that workers may mount the same tree elsewhere.
DATA_ROOT = Path(env.str("LEADERBOARD_DATA_ROOT", default=str(VAR_DIR / "data")))

# --- Scoring ---------------------------------------------------------------------------------
# Wall-clock limit for one model's evaluation, enforced by the evaluator.
SCORING_TIMEOUT_S = env.int("SCORING_TIMEOUT_S", default=600)
SCORING_DEVICE = env.str("SCORING_DEVICE", default="cpu")
# Caps on one scoring run, so that a hostile or careless model cannot take the worker down with
# it: memory in MiB and the number of processes (threads count too). Both are on unless set to
# 0 explicitly, which means "no cap" (None here).
SCORING_MEMORY_MB = env.int("SCORING_MEMORY_MB", default=8192) or None
SCORING_PIDS_MAX = env.int("SCORING_PIDS_MAX", default=256) or None
SCORING_BATCH_SIZE = env.int("SCORING_BATCH_SIZE", default=256)
# Refuse to score where bubblewrap cannot start, instead of running the model in a plain
# subprocess. Production always refuses (settings/production.py), whatever this says.
SCORING_REQUIRE_SANDBOX = env.bool("SCORING_REQUIRE_SANDBOX", default=False)
# After this many started attempts a submission is failed with a platform error.
SCORING_MAX_ATTEMPTS = env.int("SCORING_MAX_ATTEMPTS", default=3)
# A submission queued this long without starting is enqueued again (lost message, broker down).
SCORING_REQUEUE_AFTER_S = env.int("SCORING_REQUEUE_AFTER_S", default=15 * 60)
SWEEP_INTERVAL_S = env.int("SWEEP_INTERVAL_S", default=60)
# "What the network sees" (top-5 guesses, first-layer filters, occlusion maps on the public
# sample images) is computed after each score in its own sandboxed run, within this limit;
# 0 turns it off.
INSIGHTS_TIMEOUT_S = env.int("INSIGHTS_TIMEOUT_S", default=120)
# The robustness track's run scores the clean set again and 13 copies: 14 times the images. Its
# limit is ROBUSTNESS_TIME_FACTOR times what those would take at the clean run's measured pace,
# at least ROBUSTNESS_MIN_TIMEOUT_S and at most ROBUSTNESS_MAX_TIMEOUT_S (default: 14 clean
# limits), so an honest slow network finishes and a model stalling on the copies is stopped.
ROBUSTNESS_TIME_FACTOR = env.float("ROBUSTNESS_TIME_FACTOR", default=3.0)
ROBUSTNESS_MIN_TIMEOUT_S = env.int("ROBUSTNESS_MIN_TIMEOUT_S", default=300)
ROBUSTNESS_MAX_TIMEOUT_S = env.int("ROBUSTNESS_MAX_TIMEOUT_S", default=14 * SCORING_TIMEOUT_S)

# --- Fleet: queues by capability, sharded scoring, worker heartbeats (docs/fleet.md) ---------
# Work goes to the queue of the workers that can do it (leaderboard.fleet.routing): models of
# SCORING_LARGE_MODEL_MB or more to SCORING_QUEUE_LARGE (GPUs with much memory); small sets
# with small models, merges of shards and other short control work to SCORING_QUEUE_CPU; the
# rest to SCORING_QUEUE. An unset queue name falls back to SCORING_QUEUE.
SCORING_QUEUE_LARGE = env.str("SCORING_QUEUE_LARGE", default="")
SCORING_QUEUE_CPU = env.str("SCORING_QUEUE_CPU", default="")
SCORING_LARGE_MODEL_MB = env.int("SCORING_LARGE_MODEL_MB", default=1024)
# A CPU worker takes a set of at most this many input values (images x C x H x W: the default
# is Fashion-MNIST's 10,000 test images) with a model file of at most SCORING_CPU_MAX_MODEL_MB.
SCORING_CPU_MAX_VALUES = env.int("SCORING_CPU_MAX_VALUES", default=10_000 * 28 * 28)
SCORING_CPU_MAX_MODEL_MB = env.int("SCORING_CPU_MAX_MODEL_MB", default=50)
# A hidden set of at least SCORING_SHARD_MIN_IMAGES images is scored as shards of
# SCORING_SHARD_SIZE images on whichever workers are free, then merged (0 turns this off).
SCORING_SHARD_MIN_IMAGES = env.int("SCORING_SHARD_MIN_IMAGES", default=20_000)
SCORING_SHARD_SIZE = env.int("SCORING_SHARD_SIZE", default=10_000)
# ... and only for model files of at least this size: each shard pays a run's fixed cost, which
# a small model's whole run barely exceeds (docs/capacity.md). 0: any model.
SCORING_SHARD_MIN_MODEL_MB = env.int("SCORING_SHARD_MIN_MODEL_MB", default=0)
# Shard logits (float32, images x classes) wait here for the merge: every worker and the
# merging worker must see the same directory (shared storage), like DATA_ROOT and MEDIA_ROOT.
SCORING_SHARD_DIR = Path(env.str("SCORING_SHARD_DIR", default=str(VAR_DIR / "shards")))
# Each worker writes a heartbeat row this often (and at every task's start and end).
FLEET_HEARTBEAT_S = env.int("FLEET_HEARTBEAT_S", default=15)

# --- Celery ----------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_TASK_SOFT_TIME_LIMIT = env.int(
    "CELERY_TASK_SOFT_TIME_LIMIT", default=SCORING_TIMEOUT_S + INSIGHTS_TIMEOUT_S + 120
)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=CELERY_TASK_SOFT_TIME_LIMIT + 60)
# A running submission whose worker vanished is taken back after the hard limit plus this.
SCORING_DEADLINE_MARGIN_S = env.int("SCORING_DEADLINE_MARGIN_S", default=120)


def _broker_transport_options(url: str) -> dict:
    """Redis redelivers unacked tasks after visibility_timeout: keep it above the hard limit."""
    if url.startswith("filesystem://"):
        # Every folder named: kombu's defaults are relative to the current directory.
        queue_dir = VAR_DIR / "celery" / "queue"
        return {
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "processed_folder": str(VAR_DIR / "celery" / "processed"),
            "control_folder": str(VAR_DIR / "celery" / "control"),
            "store_processed": False,
            # The folder is polled; the default second would dominate upload-to-start latency.
            "polling_interval": 0.1,
        }
    return {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}


CELERY_BROKER_TRANSPORT_OPTIONS = _broker_transport_options(CELERY_BROKER_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=4.0)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Only the chord that merges shards needs a result backend (Redis: it counts the finished
# shards atomically); results themselves are not kept. Without one (the embedded filesystem
# queue) shards are sent as a plain group and the last one to finish starts the merge.
# https://docs.celeryq.dev/en/stable/userguide/canvas.html#chords
_REDIS_BROKER = CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
_RESULTS = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL if _REDIS_BROKER else "")
CELERY_RESULT_BACKEND = _RESULTS or None
CELERY_RESULT_EXPIRES = env.int("CELERY_RESULT_EXPIRES", default=24 * 3600)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "default"
# The queue scoring tasks go to; workers consume it with ``-Q``. A second deployment sharing one
# Redis, or a pool of other GPUs, takes its own name.
SCORING_QUEUE = env.str("SCORING_QUEUE", default="gpu")
CELERY_TASK_ROUTES = {
    "leaderboard.tasks.score_submission": {"queue": SCORING_QUEUE},
    "leaderboard.tasks.score_robustness": {"queue": SCORING_QUEUE},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=1)  # one per GPU
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_BEAT_SCHEDULE = {
    "sweep-submissions": {
        "task": "leaderboard.tasks.sweep_submissions",
        "schedule": float(SWEEP_INTERVAL_S),
    },
    "sweep-shards": {
        "task": "leaderboard.tasks.sweep_shards",
        "schedule": float(SWEEP_INTERVAL_S),
    },
}

# --- E-mail and notifications ---------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/email/ and
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url
# EMAIL_URL picks the backend: smtp+tls://user:password@smtp.example.org:587 (or smtps://...
# for port 465) in production; filemail:///path/to/folder writes each message to a file there;
# consolemail:// prints it. Without it mail is printed (``make run`` writes files under var/mail).
# A provider's HTTP API through django-anymail works too: install it and set EMAIL_BACKEND.
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
vars().update(env.email_url_config(EMAIL_URL))
if EMAIL_URL.startswith("filemail:"):
    # django-environ drops the leading "/" of filemail:///abs/path; no path: var/mail.
    EMAIL_FILE_PATH = "/" + EMAIL_FILE_PATH if EMAIL_FILE_PATH else str(VAR_DIR / "mail")  # noqa: F821
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=EMAIL_BACKEND)  # noqa: F821
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Arena <arena@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Links in e-mail are absolute: the address people reach the site at.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The queue the mail tasks go to (any worker of the default queue sends them).
NOTIFICATIONS_QUEUE = env.str("NOTIFICATIONS_QUEUE", default="default")
# A mail that fails to send is tried again after 30 s, 60 s, 120 s... up to the cap, this many
# times, then marked failed (the notification stays on the site).
MAIL_RETRIES = env.int("MAIL_RETRIES", default=8)
MAIL_RETRY_BACKOFF_S = env.int("MAIL_RETRY_BACKOFF_S", default=30)
MAIL_RETRY_BACKOFF_MAX_S = env.int("MAIL_RETRY_BACKOFF_MAX_S", default=3600)
# A notification whose mail task never reached the broker is queued again by the sweep once it
# is this old (leaderboard/services/notifications/resend.py).
MAIL_RESEND_AFTER_S = env.int("MAIL_RESEND_AFTER_S", default=300)
# The "closes in 24 hours" mail goes this long before an edition closes.
EDITION_CLOSING_NOTICE_S = env.int("EDITION_CLOSING_NOTICE_S", default=24 * 3600)
CELERY_BEAT_SCHEDULE["notify-editions"] = {
    "task": "leaderboard.tasks.notify_editions",
    "schedule": float(SWEEP_INTERVAL_S),
}

# --- API -------------------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
# A token older than this many days is refused (0: tokens never expire).
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=365)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "leaderboard.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["leaderboard.api.throttling.UserThrottle"],
    # Requests per user (per address when anonymous), and uploads per user.
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="3000/hour"),
        "submit": env.str("API_THROTTLE_SUBMIT", default="60/hour"),
    },
    "DEFAULT_PAGINATION_CLASS": "leaderboard.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "leaderboard.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "Image-classification challenges API",
    "DESCRIPTION": "Challenges, leaderboards, submissions and their results. "
    "Authenticate with `Authorization: Token <key>` (create a key at /me/tokens/).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
# Throttling counts live in the cache: give production a shared one (CACHE_URL=redis://...).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Celery's lines about each run of the sweepers (they log in words what they changed).
    "filters": {"routine_tasks": {"()": "leaderboard.logs.RoutineTaskFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["routine_tasks"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
