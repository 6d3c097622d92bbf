from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    verbose_name = "Leaderboard"
    default_auto_field = "django.db.models.BigAutoField"
    # Pending roles and roster rows are never granted at sign-up or log-in by a matching
    # address: only through the signed link mailed to it (services.people.claims).

    def ready(self) -> None:
        post_migrate.connect(_team_best_install, sender=self)


def _team_best_install(*, using: str = "default", plan=None, **kwargs) -> None:
    """After ``migrate``: the stored team bests' function and triggers as this code's metric
    registry makes them (``selectors.team_best``), rebuilt if they were not."""
    from django.db import connections

    from leaderboard.selectors.team_best import team_best_install

    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('leaderboard_team_best') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return  # migrated back before 0021
    team_best_install()
