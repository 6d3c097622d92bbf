# Host control through the API: a failed re-run keeps the entry's score and is recorded
# (RerunFailure); a notification's mail records when its task was queued (the sweep re-queues
# the rows that waited too long).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0019_board_speed"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="mail_queued_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="RerunFailure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("attempt", models.PositiveIntegerField()),
                ("error_code", models.CharField(max_length=50)),
                ("error_message", models.TextField(blank=True)),
                ("dataset_fingerprint", models.CharField(blank=True, max_length=128)),
                ("failed_at", models.DateTimeField()),
                (
                    "edition",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="leaderboard.edition",
                    ),
                ),
                (
                    "submission",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rerun_failures",
                        to="leaderboard.submission",
                    ),
                ),
            ],
            options={
                "ordering": ["-failed_at", "-pk"],
                "indexes": [
                    models.Index(fields=["edition", "failed_at"], name="rerun_failure_edition")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("submission", "attempt"), name="rerun_failure_once_per_attempt"
                    )
                ],
            },
        ),
    ]
