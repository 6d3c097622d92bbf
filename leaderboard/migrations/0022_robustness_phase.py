"""The robustness track's own run of a scored entry (``RobustnessRun``): the clean score is
recorded first, the transformed copies are scored afterwards by a task of their own."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("leaderboard", "0021_team_best")]

    operations = [
        migrations.CreateModel(
            name="RobustnessRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for a worker"),
                            ("running", "Being measured"),
                            ("done", "Measured"),
                            ("failed", "Not measured"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("generation", models.PositiveIntegerField(default=1)),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("worker", models.CharField(blank=True, max_length=200)),
                ("enqueued_at", models.DateTimeField(blank=True, null=True)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("deadline", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("error_code", models.CharField(blank=True, max_length=50)),
                ("error_message", models.TextField(blank=True)),
                ("opened_at", models.DateTimeField()),
                (
                    "submission",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="robustness_run",
                        to="leaderboard.submission",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("status__in", ["pending", "running"])),
                        fields=["status", "enqueued_at"],
                        name="robustness_run_waiting",
                    )
                ],
            },
        ),
    ]
