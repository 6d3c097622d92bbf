"""Each team's best public entry per metric, stored, so that a board need not look it up.

The live board (``selectors.ranking``) finds a team's best public entry with one index probe per
team: 0.4 to 0.9 s for 10,000 teams. ``leaderboard_team_best`` keeps the result of that same
probe (its SQL text, ``ranking.public_best_sql``) per team and indexed metric, with what the
board orders and cuts by (the entry's value, time, id and baseline flag) and its public value of
every stored metric (a history's best per metric). It is PostgreSQL's alone: a SQLite site
ranks live.

The rows are kept by the database itself, so that no path that changes a board can miss them:
statement triggers on the score, submission and team tables run the probe again, in the
writing transaction, for each team a statement touched (a score recorded, re-run or deleted; a
submission hidden, disqualified, restored, re-queued or deleted; a team moved or deleted).
The team's row is locked first (``FOR NO KEY UPDATE``), so two writers of one team refresh one
after the other, the second with a snapshot that holds the first's committed write.

The function and triggers are generated from the metric registry and installed after every
``migrate`` (``team_best_install``). A signature of what was installed is kept as the table's
comment; a board reads the rows only if it is the code's (``team_best_ready``), and ranks live
otherwise. ``team_best_deferred`` turns the triggers off for one transaction's bulk load and
rebuilds the touched editions at its end (``manage.py team_best_rebuild`` does so for all).

This module sits with the selectors because its SQL is the ranking's: the stored rows are a
cache of the one ranking query, not a rule of their own.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator

from django.db import connection, transaction

from leaderboard.metrics import METRICS, PUBLIC, RankedMetric
from leaderboard.models import Score, Submission, Team

from .ranking import public_best_sql

TABLE = "leaderboard_team_best"
REFRESH = "leaderboard_team_best_refresh"
DEFER = "leaderboard.team_best_defer"  # a setting: 'on' skips the triggers (bulk loads)

# The tables, created by migration 0021 (PostgreSQL only); what fills them is installed later.
CREATE_SQL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    team_id bigint NOT NULL,
    metric varchar(20) NOT NULL,
    edition_id bigint NOT NULL,
    submission_id uuid NOT NULL,
    is_baseline boolean NOT NULL,
    value double precision NULL,
    submitted_at timestamp with time zone NOT NULL,
    PRIMARY KEY (team_id, metric)
);
CREATE INDEX IF NOT EXISTS team_best_edition_metric ON {TABLE} (edition_id, metric);
"""


def stored_metrics() -> tuple[RankedMetric, ...]:
    """The metrics whose best is stored: those the score table keeps an index for."""
    return tuple(metric for metric in METRICS if metric.indexed)


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "table": TABLE,
        "refresh": REFRESH,
        "defer": DEFER,
        "score": quote(Score._meta.db_table),
        "submission": quote(Submission._meta.db_table),
        "team": quote(Team._meta.db_table),
    }


def value_column(metric: RankedMetric) -> str:
    """The stored best's column holding its entry's public value of ``metric`` (every stored
    metric's, whichever one picked it: a history's best per metric reads them)."""
    assert metric.key.isalnum()
    return f"v_{metric.key}"


def _columns_sql() -> str:
    """The value columns of this registry's metrics, added where missing."""
    return "".join(
        f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS {value_column(m)} double precision NULL;\n"
        for m in stored_metrics()
    )


def _refresh_sql() -> str:
    """The function that stores again the best entries of the given teams."""
    metrics = stored_metrics()
    columns = "".join(f", {value_column(m)}" for m in metrics)
    values = "".join(f", sc.{m.column(PUBLIC)}" for m in metrics)
    picks = "\n        UNION ALL\n".join(
        f"        SELECT t.id AS team_id, t.edition_id, '{metric.key}' AS metric,\n"
        f"               {public_best_sql(metric)} AS submission_id\n"
        f"        FROM {{team}} t WHERE t.id = ANY(teams)"
        for metric in metrics
    )
    value = " ".join(f"WHEN '{m.key}' THEN sc.{m.column(PUBLIC)}" for m in metrics)
    assert all(m.key.isalnum() for m in metrics)
    return (
        """
CREATE OR REPLACE FUNCTION {refresh}(teams bigint[]) RETURNS void
LANGUAGE plpgsql AS $body$
BEGIN
    IF teams IS NULL OR cardinality(teams) = 0
       OR coalesce(current_setting('{defer}', true), '') = 'on' THEN
        RETURN;
    END IF;
    PERFORM 1 FROM {team} t WHERE t.id = ANY(teams) ORDER BY t.id FOR NO KEY UPDATE;
    DELETE FROM {table} WHERE team_id = ANY(teams);
    INSERT INTO {table} (team_id, metric, edition_id, submission_id, is_baseline, value,
                         submitted_at"""
        + columns
        + """)
    SELECT p.team_id, p.metric, p.edition_id, p.submission_id, sc.is_baseline,
           CASE p.metric """
        + value
        + """ END, sc.submitted_at"""
        + values
        + """
    FROM (
"""
        + picks
        + """
    ) p
    JOIN {score} sc ON sc.submission_id = p.submission_id;
END
$body$;
"""
    ).format(**_tables())


# Per table and event: the teams whose best the statement may have changed.
_TRIGGER_TEAMS = {
    "score": {
        "INSERT": "SELECT team_id FROM new_rows",
        "UPDATE": "SELECT team_id FROM old_rows UNION SELECT team_id FROM new_rows",
        "DELETE": "SELECT team_id FROM old_rows",
    },
    # Status and moderation decide whether an entry ranks; the score holds its team.
    "submission": {
        "UPDATE": (
            "SELECT sc.team_id FROM old_rows o JOIN new_rows n ON n.id = o.id"
            " JOIN {score} sc ON sc.submission_id = n.id"
            " WHERE o.status IS DISTINCT FROM n.status"
            " OR o.moderation IS DISTINCT FROM n.moderation"
        ),
        "DELETE": "SELECT team_id FROM old_rows",
    },
    "team": {
        "UPDATE": (
            "SELECT n.id FROM old_rows o JOIN new_rows n ON n.id = o.id"
            " WHERE o.edition_id IS DISTINCT FROM n.edition_id"
        ),
    },
}

_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    PERFORM {refresh}(ARRAY(SELECT DISTINCT x.team_id FROM ({teams}) x(team_id)
                            WHERE x.team_id IS NOT NULL));
    RETURN NULL;
END
$body$;
DROP TRIGGER IF EXISTS {name} ON {on};
CREATE TRIGGER {name} AFTER {event} ON {on}
    REFERENCING {referencing}
    FOR EACH STATEMENT EXECUTE FUNCTION {name}();
"""

# A team deleted, or a table emptied at once (a test's flush): its rows go too.
_CLEANUP = """
CREATE OR REPLACE FUNCTION leaderboard_team_best_team_gone() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    DELETE FROM {table} WHERE team_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END
$body$;
DROP TRIGGER IF EXISTS leaderboard_team_best_team_gone ON {team};
CREATE TRIGGER leaderboard_team_best_team_gone AFTER DELETE ON {team}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_team_best_team_gone();
CREATE OR REPLACE FUNCTION leaderboard_team_best_truncated() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    DELETE FROM {table};
    RETURN NULL;
END
$body$;
"""

_TRUNCATE_TRIGGER = """
DROP TRIGGER IF EXISTS leaderboard_team_best_truncated ON {on};
CREATE TRIGGER leaderboard_team_best_truncated AFTER TRUNCATE ON {on}
    FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_team_best_truncated();
"""


def _install_sql() -> str:
    tables = _tables()
    parts = [_columns_sql(), _refresh_sql(), _CLEANUP.format(**tables)]
    for table, events in _TRIGGER_TEAMS.items():
        for event, teams in events.items():
            referencing = {
                "INSERT": "NEW TABLE AS new_rows",
                "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                "DELETE": "OLD TABLE AS old_rows",
            }[event]
            parts.append(
                _TRIGGER_FUNCTION.format(
                    name=f"leaderboard_team_best_{table}_{event.lower()}",
                    refresh=REFRESH,
                    teams=teams.format(**tables),
                    on=tables[table],
                    event=event,
                    referencing=referencing,
                )
            )
    for table in ("score", "submission", "team"):
        parts.append(_TRUNCATE_TRIGGER.format(on=tables[table]))
    return "\n".join(parts)


def team_best_signature() -> str:
    """What the installed function and triggers must be for this code's registry."""
    return hashlib.sha256(_install_sql().encode()).hexdigest()[:32]


def _installed_signature() -> str | None:
    """The signature installed, kept as the table's comment; None without the table."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT obj_description(to_regclass('{TABLE}'), 'pg_class')")
        return cursor.fetchone()[0]


_READY: set[str] = set()  # databases found installed as this code says, by name


def team_best_ready() -> bool:
    """Whether boards may read the stored bests: PostgreSQL, installed as this code says.

    Asked once per process and database, once true: what is installed changes only with the
    code (a new registry comes with a restart, then ``migrate`` installs it), and a board
    should not pay a query for it."""
    if connection.vendor != "postgresql":
        return False
    name = str(connection.settings_dict["NAME"])
    if name in _READY:
        return True
    if _installed_signature() != team_best_signature():
        return False
    _READY.add(name)
    return True


def team_best_forget() -> None:
    """Ask the database again at the next board (its table was just made or dropped)."""
    _READY.clear()


def team_best_install(*, force: bool = False) -> bool:
    """Install (or replace) the function and triggers and store every team's best again, if
    what is installed is not this code's (or ``force``); True if it did. PostgreSQL only."""
    if connection.vendor != "postgresql":
        return False
    signature = team_best_signature()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(CREATE_SQL)
            cursor.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
        if not force and _installed_signature() == signature:
            _READY.add(str(connection.settings_dict["NAME"]))
            return False
        with connection.cursor() as cursor:
            cursor.execute(_install_sql())
            cursor.execute(f"DELETE FROM {TABLE}")
            _refresh_all(cursor, edition_ids=None)
            assert signature.isalnum()
            cursor.execute(f"COMMENT ON TABLE {TABLE} IS '{signature}'")
    _READY.add(str(connection.settings_dict["NAME"]))
    return True


def team_best_rebuild(*, edition_ids: Iterable[int] | None = None) -> int:
    """Store again the best of every team (of these editions); returns the rows stored."""
    if not team_best_ready():
        team_best_install(force=True)
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            _refresh_all(cursor, edition_ids=edition_ids)
    with connection.cursor() as cursor:
        if edition_ids is None:
            cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        else:
            ids = [int(pk) for pk in edition_ids]
            cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE edition_id = ANY(%s)", [ids])
        return cursor.fetchone()[0]


def _refresh_all(cursor, *, edition_ids: Iterable[int] | None) -> None:
    """Every team's refresh at once, after a bulk load or a rebuild. The tables' statistics
    first: on tables never analysed the planner scanned per team (over 13 minutes for 100,000
    freshly seeded submissions, against 38 s once analysed)."""
    team = connection.ops.quote_name(Team._meta.db_table)
    tables = (Score._meta.db_table, Submission._meta.db_table, Team._meta.db_table)
    cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
    cursor.execute(f"SET LOCAL {DEFER} = 'off'")
    if edition_ids is None:
        cursor.execute(f"SELECT {REFRESH}(ARRAY(SELECT id FROM {team}))")
    else:
        ids = [int(pk) for pk in edition_ids]
        cursor.execute(
            f"SELECT {REFRESH}(ARRAY(SELECT id FROM {team} WHERE edition_id = ANY(%s)))", [ids]
        )


@contextlib.contextmanager
def team_best_deferred(*, edition_ids: Iterable[int]) -> Iterator[None]:
    """A transaction for a bulk load into these editions: the triggers skip its statements,
    and its end stores again the best of every team of the editions."""
    with transaction.atomic():
        if connection.vendor != "postgresql":
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL {DEFER} = 'on'")
        yield
        if team_best_ready():
            with connection.cursor() as cursor:
                _refresh_all(cursor, edition_ids=edition_ids)
