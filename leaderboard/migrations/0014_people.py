"""People (issue 16, section 1): several hosts and teaching assistants per edition, and the
roster a host uploads. Each existing edition's host becomes a host row, so single-host editions
keep working as before."""

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def hosts_to_roles(apps, schema_editor):
    """Every edition with a ``host`` gets that user as a host role (once; safe to run again)."""
    Edition = apps.get_model("leaderboard", "Edition")
    EditionRole = apps.get_model("leaderboard", "EditionRole")
    taken = set(EditionRole.objects.filter(user__isnull=False).values_list("edition_id", "user_id"))
    EditionRole.objects.bulk_create(
        EditionRole(edition_id=edition_id, user_id=host_id, role="host")
        for edition_id, host_id in Edition.objects.filter(host__isnull=False)
        .values_list("pk", "host_id")
        .iterator()
        if (edition_id, host_id) not in taken
    )


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0013_notifications"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EditionRole",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "email",
                    models.EmailField(
                        blank=True, help_text="Whom a pending invitation waits for.", max_length=254
                    ),
                ),
                (
                    "role",
                    models.CharField(
                        choices=[("host", "Host"), ("ta", "Teaching assistant")], max_length=8
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "added_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "edition",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="roles",
                        to="leaderboard.edition",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="edition_roles",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["edition", "role", "created_at", "pk"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("user__isnull", False)),
                        fields=("edition", "user"),
                        name="edition_role_once_per_user",
                    ),
                    models.UniqueConstraint(
                        models.F("edition"),
                        django.db.models.functions.text.Lower("email"),
                        condition=models.Q(("user__isnull", True)),
                        name="edition_role_once_per_pending_email",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("user__isnull", False),
                            models.Q(("email", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="edition_role_user_or_email",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="RosterEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("email", models.EmailField(max_length=254)),
                ("name", models.CharField(max_length=200)),
                ("team_name", models.CharField(blank=True, max_length=150)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("invited_at", models.DateTimeField(blank=True, null=True)),
                ("invitations", models.PositiveSmallIntegerField(default=0)),
                (
                    "edition",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="roster",
                        to="leaderboard.edition",
                    ),
                ),
            ],
            options={
                "ordering": ["edition", "name", "email"],
                "constraints": [
                    models.UniqueConstraint(
                        models.F("edition"),
                        django.db.models.functions.text.Lower("email"),
                        name="roster_entry_once_per_email",
                    )
                ],
            },
        ),
        migrations.RunPython(hosts_to_roles, migrations.RunPython.noop),
    ]
