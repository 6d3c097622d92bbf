"""The Celery app: configured from Django settings (``CELERY_*``), tasks found in leaderboard.tasks.

Start a scoring worker with ``celery -A leaderboard worker -Q gpu`` (one per GPU) and the sweeper
with ``celery -A leaderboard beat`` plus a worker on the ``default`` queue. DJANGO_SETTINGS_MODULE
must be set: a worker that fell back to the laptop settings would score with DEBUG on, a fixed
secret key and no sandbox required, and nothing would say so. ``make run`` sets it for the
worker it starts.
"""

import os

from celery import Celery
from django.core.exceptions import ImproperlyConfigured
from kombu.transport import TRANSPORT_ALIASES

if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    # Not an ImportError: ``celery -A leaderboard`` would take that for "no such module" and
    # go on looking elsewhere instead of printing this.
    raise ImproperlyConfigured(
        "DJANGO_SETTINGS_MODULE is not set: tell the Celery worker or beat which settings to "
        "use (leaderboard.settings.production on a server; `make run` sets "
        "leaderboard.settings.local itself)."
    )

# "filesystem://" (the embedded default) is kombu's transport with whole messages only: see
# leaderboard.fsqueue. Every process that sends or takes a task imports this module first.
TRANSPORT_ALIASES["filesystem"] = "leaderboard.fsqueue:Transport"

app = Celery("leaderboard")
# https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Workers write heartbeat rows (the staff fleet page); the handlers touch Django only when run.
import leaderboard.fleet.signals  # noqa: E402, F401
from leaderboard import account_mail  # noqa: E402, F401  (allauth's mail: its task)
