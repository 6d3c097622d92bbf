"""The charts' activity per day, stored (ActivityDay) with the basis it was counted on
(ActivitySummary). No data step: an edition's days are counted at its next write, or by
``manage.py activity_rebuild``; until then its charts page counts them from the rows."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0014_people"),
    ]

    operations = [
        migrations.CreateModel(
            name="ActivitySummary",
            fields=[
                (
                    "edition",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="leaderboard.edition",
                    ),
                ),
                ("time_zone", models.CharField(blank=True, max_length=64)),
                ("metric", models.CharField(blank=True, max_length=20)),
                ("counted_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="ActivityDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("submissions", models.PositiveIntegerField()),
                ("scored", models.PositiveIntegerField()),
                ("best", models.FloatField(null=True)),
                (
                    "edition",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="leaderboard.edition",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("edition", "day"), name="activity_day_unique")
                ],
            },
        ),
    ]
