"""Copy each score's edition, team, baseline flag and submission time onto the score row, and
index a team's entries by each ranking column: the leaderboard's best-per-team becomes one index
probe per team instead of a pass over every submission of the edition."""

import django.db.models.deletion
from django.db import migrations, models

COPIED = {
    "edition_id": "edition_id",
    "team_id": "team_id",
    "is_baseline": "is_baseline",
    "submitted_at": "created_at",
}


def copy_from_submissions(apps, schema_editor) -> None:
    """One set-based UPDATE (correlated subqueries: valid on PostgreSQL and SQLite alike)."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    score = quote(apps.get_model("leaderboard", "Score")._meta.db_table)
    submission = quote(apps.get_model("leaderboard", "Submission")._meta.db_table)
    assignments = ", ".join(
        f"{quote(target)} = (SELECT s.{quote(source)} FROM {submission} s "
        f"WHERE s.id = {score}.submission_id)"
        for target, source in COPIED.items()
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks would otherwise block the ALTERs that follow.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"UPDATE {score} SET {assignments}")


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="score",
            name="edition",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="leaderboard.edition",
            ),
        ),
        migrations.AddField(
            model_name="score",
            name="team",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="leaderboard.team",
            ),
        ),
        migrations.AddField(
            model_name="score",
            name="is_baseline",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="score",
            name="submitted_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(copy_from_submissions, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="score",
            name="edition",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="leaderboard.edition",
            ),
        ),
        migrations.AlterField(
            model_name="score",
            name="submitted_at",
            field=models.DateTimeField(),
        ),
        *(
            migrations.AddIndex(
                model_name="score",
                index=models.Index(
                    condition=models.Q((f"{column}__isnull", False)),
                    fields=["team", column, "submitted_at", "submission"],
                    name=f"score_team_{column.replace('_error', '')}",
                ),
            )
            for column in (
                "public_top1_error",
                "public_top5_error",
                "private_top1_error",
                "private_top5_error",
            )
        ),
        migrations.AddIndex(
            model_name="score",
            index=models.Index(fields=["edition", "is_baseline"], name="score_edition_baseline"),
        ),
    ]
