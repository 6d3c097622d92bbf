"""Each team's best public entry per metric, stored (``selectors.team_best``): the tables.

PostgreSQL only (a SQLite site ranks live). The function and triggers that fill them are
generated from the metric registry and installed after every ``migrate`` (``apps``), so that
they follow the score table's columns whatever migration added them.
"""

from django.db import migrations

CREATE = """
CREATE TABLE IF NOT EXISTS leaderboard_team_best (
    team_id bigint NOT NULL,
    metric varchar(20) NOT NULL,
    edition_id bigint NOT NULL,
    submission_id uuid NOT NULL,
    is_baseline boolean NOT NULL,
    value double precision NULL,
    submitted_at timestamp with time zone NOT NULL,
    PRIMARY KEY (team_id, metric)
);
CREATE INDEX IF NOT EXISTS team_best_edition_metric ON leaderboard_team_best (edition_id, metric);
"""

TRIGGERS = {
    "leaderboard_score": ("score_insert", "score_update", "score_delete", "truncated"),
    "leaderboard_submission": ("submission_update", "submission_delete", "truncated"),
    "leaderboard_team": ("team_update", "team_gone", "truncated"),
}
FUNCTIONS = (
    "score_insert",
    "score_update",
    "score_delete",
    "submission_update",
    "submission_delete",
    "team_update",
    "team_gone",
    "truncated",
)
DROP = "\n".join(
    [
        *(
            f"DROP TRIGGER IF EXISTS leaderboard_team_best_{name} ON {table};"
            for table, names in TRIGGERS.items()
            for name in names
        ),
        *(f"DROP FUNCTION IF EXISTS leaderboard_team_best_{name}();" for name in FUNCTIONS),
        "DROP FUNCTION IF EXISTS leaderboard_team_best_refresh(bigint[]);",
        "DROP TABLE IF EXISTS leaderboard_team_best;",
    ]
)


def _run(sql: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)
        # A process that found the triggers installed must ask again: a table made or dropped
        # here has none until ``migrate``'s hook installs them (a migration test's executor
        # never runs that hook, so its process ranks live from here on).
        from leaderboard.selectors.team_best import team_best_forget

        team_best_forget()

    return run


class Migration(migrations.Migration):
    dependencies = [("leaderboard", "0020_host_control_api")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
