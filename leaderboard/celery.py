"""The Celery app: configured from Django settings (``CELERY_*``), tasks found in leaderboard.tasks.

Start a scoring worker with ``celery -A leaderboard worker -Q gpu`` (one per GPU) and the sweeper
with ``celery -A leaderboard beat`` plus a worker on the ``default`` queue.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings.local")

app = Celery("leaderboard")
# https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Workers write heartbeat rows (the staff fleet page); the handlers touch Django only when run.
import leaderboard.fleet.signals  # noqa: E402, F401
