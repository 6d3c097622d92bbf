from django.apps import AppConfig


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    verbose_name = "Leaderboard"
    default_auto_field = "django.db.models.BigAutoField"
    # Pending roles and roster rows are never granted at sign-up or log-in by a matching
    # address: only through the signed link mailed to it (services.people.claims).
