"""Laptop settings: the embedded default (SQLite, filesystem queue under ./var), DEBUG on."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A fixed key is fine for a local database nobody else reaches; production requires its own.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-key-not-for-production")

for _sub in ("media", "data", "celery/queue", "celery/processed", "celery/control"):
    (VAR_DIR / _sub).mkdir(parents=True, exist_ok=True)
# Serve static files from the app directories while developing; no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Mail goes to files under var/mail (one per message) unless EMAIL_URL says otherwise.
if not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
