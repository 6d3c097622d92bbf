import decimal

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


def _points(default: int) -> models.DecimalField:
    return models.DecimalField(
        decimal_places=2,
        default=decimal.Decimal(default),
        max_digits=7,
        validators=[django.core.validators.MinValueValidator(decimal.Decimal(0))],
    )


def _error() -> models.FloatField:
    return models.FloatField(
        blank=True,
        null=True,
        validators=[
            django.core.validators.MinValueValidator(0.0),
            django.core.validators.MaxValueValidator(1.0),
        ],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0011_submission_hidden_by_host"),
    ]

    operations = [
        migrations.CreateModel(
            name="GradingRule",
            fields=[
                (
                    "edition",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="grading_rule",
                        serialize=False,
                        to="leaderboard.edition",
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("bands", "Points by rank bands"),
                            ("linear", "Points linear in the error"),
                        ],
                        default="bands",
                        max_length=8,
                    ),
                ),
                ("bands", models.JSONField(blank=True, default=list)),
                ("full_points_error", _error()),
                ("zero_points_error", _error()),
                ("max_points", _points(10)),
                ("bonus_points", _points(0)),
                ("unranked_points", _points(0)),
                ("assignment", models.CharField(blank=True, max_length=100)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "bonus_baseline",
                    models.ForeignKey(
                        blank=True,
                        limit_choices_to={"is_baseline": True},
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="leaderboard.submission",
                    ),
                ),
            ],
        ),
    ]
