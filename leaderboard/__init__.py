"""The competition site: challenges, editions, submissions, leaderboards, and the scoring queue.

The Celery app (``leaderboard.celery``) is not imported here: it refuses to load without
DJANGO_SETTINGS_MODULE, and the command-line client and ``make run`` import this package before
any settings are chosen. ``celery -A leaderboard`` finds ``leaderboard.celery`` by itself, and
every module that sends a task imports the app it sends with.
"""
