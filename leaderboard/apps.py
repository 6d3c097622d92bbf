from django.apps import AppConfig


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    verbose_name = "Leaderboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # A host's invitation by e-mail becomes a role when that address signs up or logs in.
        user_logged_in.connect(_claim_roles, dispatch_uid="leaderboard.roles_claim")


def _claim_roles(sender, request, user, **kwargs) -> None:
    from leaderboard.services.people import roles_claim

    roles_claim(user=user)
