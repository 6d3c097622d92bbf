"""Notifications (issue 16, section 2): the in-site list, e-mail choices, announcements, and
the markers that make an edition's dated notices go once."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0012_grading_rule"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Announcement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "audience",
                    models.CharField(
                        choices=[
                            ("all", "Everyone taking part"),
                            ("not_submitted", "Only those whose team has not submitted yet"),
                        ],
                        default="all",
                        max_length=20,
                    ),
                ),
                ("subject", models.CharField(max_length=200)),
                ("body", models.TextField(help_text="Markdown.")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("recipients", models.PositiveIntegerField(default=0)),
                (
                    "author",
                    models.ForeignKey(
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
                        related_name="announcements",
                        to="leaderboard.edition",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="EditionNotice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("submission", "A submission of mine is scored or fails"),
                            ("invitation", "I am invited to a team"),
                            ("edition_opening", "An edition I take part in opens"),
                            ("edition_closing", "An edition I take part in closes in 24 hours"),
                            ("announcement", "A host sends an announcement"),
                        ],
                        max_length=20,
                    ),
                ),
                ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("recipients", models.PositiveIntegerField(default=0)),
                (
                    "edition",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notices",
                        to="leaderboard.edition",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("edition", "kind"), name="edition_notice_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="Notification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("submission", "A submission of mine is scored or fails"),
                            ("invitation", "I am invited to a team"),
                            ("edition_opening", "An edition I take part in opens"),
                            ("edition_closing", "An edition I take part in closes in 24 hours"),
                            ("announcement", "A host sends an announcement"),
                        ],
                        max_length=20,
                    ),
                ),
                ("key", models.CharField(max_length=200)),
                ("subject", models.CharField(max_length=200)),
                ("body", models.TextField()),
                ("url", models.CharField(blank=True, max_length=500)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                (
                    "mail",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting to be sent"),
                            ("sent", "Sent"),
                            ("off", "Not sent: turned off or no address"),
                            ("failed", "Not sent: every attempt failed"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("mailed_at", models.DateTimeField(blank=True, null=True)),
                ("mail_error", models.TextField(blank=True)),
                (
                    "announcement",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="leaderboard.announcement",
                    ),
                ),
                (
                    "edition",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="leaderboard.edition",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("read_at", None)),
                        fields=["user"],
                        name="notification_unread",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "key"), name="notification_once_per_event"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="NotificationPreference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("submission", "A submission of mine is scored or fails"),
                            ("invitation", "I am invited to a team"),
                            ("edition_opening", "An edition I take part in opens"),
                            ("edition_closing", "An edition I take part in closes in 24 hours"),
                            ("announcement", "A host sends an announcement"),
                        ],
                        max_length=20,
                    ),
                ),
                ("email", models.BooleanField(default=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_preferences",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("user", "kind"), name="preference_one_per_kind")
                ],
            },
        ),
    ]
