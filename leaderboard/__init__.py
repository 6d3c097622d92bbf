"""The competition site: challenges, editions, submissions, leaderboards, and the scoring queue."""

from .celery import app as celery_app

__all__ = ("celery_app",)
