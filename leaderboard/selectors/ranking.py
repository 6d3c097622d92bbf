"""The one ranking: every board, export and history row of the site comes out of this query.

Rules: per team one entry. While an edition runs, the team's best entry on the public part of
the hidden set; once it has closed, the best on the private part of the entries the team chose as
finals (``Submission.is_final``), or, if it chose none, its best public entry. Every baseline is
a row of its own, unless the edition's host switched it off. Entries a host hid or
disqualified are left out; flagged ones stay. A tie goes to the earlier submission, then the
smaller id. An entry with no value for the metric is not on the board, unless the metric is
declared ``unscored=LAST`` (added after scores were recorded): then it is ranked after every
entry that has one. Which part ranks an edition at a given time is decided by
``edition_phase`` alone; which metric, by the registry (``leaderboard.metrics``).

The cost grows with teams, not submissions: per team a correlated subquery walks the score
table's partial index on (team, value, time, id) and stops at the first entry still SCORED and
ranked (correlated subqueries rather than LATERAL joins, so that SQLite runs the same text;
PostgreSQL executes each as an index probe per team). Positions and the total are window
functions over the whole board; a page of it is cut afterwards, and only its rows count their
team's entries. Several editions can be ranked at once, each on its own part (the history):
their values then come through a CASE on the edition.

On PostgreSQL each team's best public entry is also stored (``selectors.team_best``: the result
of this module's own probe, kept by triggers in every writing transaction), and a board that is
not frozen reads it instead of probing (0.4 to 0.9 s for 10,000 teams). A board on the public
part by a metric whose entries without a value are left off is then ranked on the stored keys
alone (value, time, id), and only the rows asked for (a page, or the first ``places``) are
joined to their score, entry and team. A frozen board, the private part's finals and SQLite
rank as described above.

A re-run by the host (``services.host_control``) keeps the entry on the board with its last
score while it is queued and running again; its new score replaces that one once recorded (the
old one moves to ``SupersededScore``). A public board the host froze (``Edition.board_frozen_at``,
``board_freezes``) ranks, instead of the score table, the score each submission held at the
freeze: a current score recorded by then, or the superseded one that was current then.

The only things put into the SQL text are identifiers declared in the code (tables, the
registry's columns, moderation states) and integers (edition ids); everything else is a
parameter.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db import connection, transaction
from django.utils import timezone

from leaderboard.metrics import LAST, METRICS, PRIVATE, PUBLIC, RankedMetric, metric_get
from leaderboard.models import (
    RANKED_MODERATION,
    SCORE_SHARED_COLUMNS,
    Edition,
    Score,
    Submission,
    SupersededScore,
    Team,
)

assert all(value.isalpha() or value == "" for value in RANKED_MODERATION)
_RANKED = ", ".join(f"'{value}'" for value in RANKED_MODERATION)
_ALL_ROWS = 2**62


def edition_phase(*, edition: Edition, now: dt.datetime | None = None) -> str:
    """The part of the hidden set that ranks ``edition`` and that its pages show at ``now``:
    PUBLIC until it closes (before it opens too), PRIVATE from its closing time on."""
    return PRIVATE if edition.is_closed(now=now or timezone.now()) else PUBLIC


def board_phase(
    *, edition: Edition, now: dt.datetime | None = None, asked: str | None = None
) -> str:
    """The part a board of ``edition`` shows: the one the edition shows now, except that once
    that is the private part, ``asked=PUBLIC`` (``?board=public``) gets the public board as it
    stood while the edition ran."""
    phase = edition_phase(edition=edition, now=now)
    return PUBLIC if asked == PUBLIC and phase == PRIVATE else phase


def board_freezes(
    *, editions: Iterable[Edition], parts: Mapping[int, str], now: dt.datetime | None = None
) -> dict[int, dt.datetime]:
    """Edition id -> freeze time, for the editions whose public board is frozen at ``now`` and
    ranked on their public part (the host's freeze lasts until the close; see
    ``Edition.board_frozen_as_of``)."""
    now = now or timezone.now()
    frozen = {}
    for edition in editions:
        at = edition.board_frozen_as_of(now=now)
        if at is not None and parts.get(edition.pk) == PUBLIC:
            frozen[edition.pk] = at
    return frozen


@dataclass(frozen=True)
class Ranking:
    """What to rank: a metric, on one part per edition (edition id -> PUBLIC or PRIVATE).

    ``finals=False`` ranks each team's best entry on a private part whatever it chose (the
    charts' "most accurate entry"), instead of its finals. ``frozen`` (edition id -> time)
    ranks those editions' scores as they stood at that time (``board_freezes``).
    """

    metric: RankedMetric
    parts: Mapping[int, str]
    finals: bool = True
    frozen: Mapping[int, dt.datetime] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        *,
        edition: Edition,
        phase: str,
        metric: str | RankedMetric,
        finals: bool = True,
        now: dt.datetime | None = None,
    ):
        """One edition on ``phase``; a public board frozen by its host at ``now`` is ranked as at
        the freeze (the one rule, so that the page, CSV, API and charts agree)."""
        if phase not in (PUBLIC, PRIVATE):
            raise ValueError(f"phase must be {PUBLIC!r} or {PRIVATE!r}, not {phase!r}")
        parts = {edition.pk: phase}
        return cls(
            metric=metric_get(metric),
            parts=parts,
            finals=finals,
            frozen=board_freezes(editions=[edition], parts=parts, now=now),
        )


@dataclass(frozen=True)
class Page:
    rows: list[Submission]  # one page of the board, or all of it
    total: int = 0  # rows on the whole board (0 for a page past its end)
    page: int = 1
    pages: int = 1


def ranked_rows(
    *,
    ranking: Ranking,
    limit: int | None = None,
    offset: int = 0,
    places: int | None = None,
    bests: bool = False,
    entries: bool = True,
) -> list[Submission]:
    """The board, best first, in one query: each team's entry and every baseline.

    Each row is a Submission with ``position`` (among its edition's teams, or its baselines),
    ``row_index`` and ``total_rows`` (over the whole board), ``metric_value`` (the ranked
    metric), ``other_value`` (the first other declared metric: the top-1 error, or the top-5
    error on a board ranked by top-1), every registered metric's value on the row's part as
    ``<key>_value``,
    ``scored_images``, ``team_name`` and ``team_entries``. ``limit``/``offset`` cut a slice;
    ``places`` keeps instead the first places of each edition and every baseline; ``bests``
    adds ``best_<key>``, each metric's best over the teams' rows of the edition. ``entries=False``
    leaves ``team_entries`` None: counting them reads every score of the rows' teams, which a
    chart of every team (700 teams, 100,000 entries: about half the query) does not show.
    """
    sql, params = _rows_query(
        ranking, limit=limit, offset=offset, places=places, bests=bests, entries=entries
    )
    return _fetch(ranking, lambda: list(Submission.objects.raw(sql, params))) if sql else []


class PlainRow(SimpleNamespace):
    """A row of ``ranked_plain_rows``: the attributes of ``ranked_rows``' rows, no model."""

    @property
    def pk(self):
        return self.id


def ranked_plain_rows(
    *,
    ranking: Ranking,
    places: int | None = None,
    bests: bool = False,
    score_columns: tuple[str, ...] = (),
) -> list[PlainRow | Submission]:
    """The board as ``ranked_rows(entries=False)`` gives it (``places``, ``bests`` as there), as
    plain rows: building a Submission per row took about as long as the query on a chart of
    700 teams. Each score
    column named in ``score_columns`` comes as ``score_<column>``, from the entry's current
    score (a frozen board's too), as the database returns it (a JSON field as its text). On
    PostgreSQL the cursor's values are the model's (UUIDs, aware times); elsewhere the rows are
    the models themselves."""
    extra = tuple(Score._meta.get_field(name).column for name in score_columns)
    sql, params = _rows_query(ranking, places=places, bests=bests, entries=False, extra=extra)
    if not sql:
        return []
    if connection.vendor != "postgresql":
        return _fetch(ranking, lambda: list(Submission.objects.raw(sql, params)))

    def plain() -> list[PlainRow]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = [column.name for column in cursor.description]
            return [PlainRow(**dict(zip(names, row, strict=True))) for row in cursor.fetchall()]

    return _fetch(ranking, plain)


def _rows_query(
    ranking: Ranking,
    *,
    limit: int | None = None,
    offset: int = 0,
    places: int | None = None,
    bests: bool = False,
    entries: bool = True,
    extra: tuple[str, ...] = (),
) -> tuple[str, dict]:
    """The SQL and parameters of ``ranked_rows``; no SQL when there is nothing to rank."""
    if not ranking.parts:
        return "", {}
    params = {
        **_RANKABLE_PARAMS,
        "yes": True,
        "no": False,
        **{f"frozen_{int(pk)}": at for pk, at in ranking.frozen.items()},
    }
    if places is not None:
        where = "(board.is_baseline = %(yes)s OR board.position <= %(places)s)"
        params["places"] = places
    else:
        where = "board.row_index > %(first)s AND board.row_index <= %(last)s"
        params["first"] = max(0, offset)
        params["last"] = _ALL_ROWS if limit is None else params["first"] + max(0, limit)
    sql = _board_sql(ranking, bests=bests, extra=extra, where=where)
    rows = _ROWS if entries else _ROWS_UNCOUNTED
    sql = rows.format(board=sql, where=where, counted=_present(ranking, "c"), **_tables(ranking))
    return sql, params


def _fetch(ranking: Ranking, run: Callable[[], list]) -> list:
    if ranking.frozen and connection.vendor == "postgresql":
        # A frozen board's estimated cost crosses jit_above_cost, and compiling its plan took
        # ~0.8 s where running it takes ~50 ms (10,000 entries): plan this one without JIT.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            return run()
    return run()


def ranked_page(*, ranking: Ranking, page: int | None, page_size: int) -> Page:
    """``page`` (from 1) of ``page_size`` rows, or the whole board for None."""
    page = None if page is None else max(1, page)
    rows = ranked_rows(
        ranking=ranking,
        limit=None if page is None else page_size,
        offset=0 if page is None else (page - 1) * page_size,
    )
    total = rows[0].total_rows if rows else 0
    pages = 1 if page is None else max(1, math.ceil(total / page_size))
    return Page(rows=rows, total=total, page=page or 1, pages=pages)


# A submission with a score ranks while scored, and while a host's re-run scores it again.
_RANKABLE = "v.status IN (%(scored)s, %(queued)s, %(running)s)"
_RANKABLE_PARAMS = {
    "scored": Submission.Status.SCORED,
    "queued": Submission.Status.QUEUED,
    "running": Submission.Status.RUNNING,
}


def _tables(ranking: Ranking) -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "score": _frozen_scores(ranking) if ranking.frozen else quote(Score._meta.db_table),
        "submission": quote(Submission._meta.db_table),
        "team": quote(Team._meta.db_table),
        "ranked": _RANKED,
        "rankable": _RANKABLE,
    }


# The scores as they stood at each frozen edition's freeze (the others' as they are now): the
# current score if recorded by then, else the superseded one current at that time.
_FROZEN_SCORES = """(
    SELECT {columns} FROM {score} x
    WHERE x.edition_id IN ({editions}) AND (x.edition_id NOT IN ({frozen})
          OR x.created_at <= {cutoff_x})
    UNION ALL
    SELECT {columns} FROM {superseded} h
    WHERE h.edition_id IN ({frozen}) AND h.scored_at <= {cutoff_h} AND h.superseded_at > {cutoff_h}
)"""


def _frozen_scores(ranking: Ranking) -> str:
    quote = connection.ops.quote_name

    def cutoff(alias: str) -> str:
        return _cutoff(ranking, alias)

    return _FROZEN_SCORES.format(
        columns=", ".join(quote(column) for column in SCORE_SHARED_COLUMNS),
        score=quote(Score._meta.db_table),
        superseded=quote(SupersededScore._meta.db_table),
        editions=", ".join(str(int(pk)) for pk in sorted(ranking.parts)),
        frozen=", ".join(str(int(pk)) for pk in sorted(ranking.frozen)),
        cutoff_x=cutoff("x"),
        cutoff_h=cutoff("h"),
    )


# Per team the best entry; on a private part, also its best final (or best entry there).
_TEAM_BEST = """
WITH team_best AS {materialized} (
    SELECT t.id AS team_id, t.edition_id, {best_public} AS best_public{best_private}
    FROM {team} t{stored}
    WHERE t.edition_id IN ({editions})
),
entries AS (
    SELECT {pick} AS submission_id, %(no)s AS is_baseline
    FROM team_best WHERE {pick} IS NOT NULL
    UNION ALL
    SELECT sc.submission_id, sc.is_baseline
    FROM {score} sc
    JOIN {submission} v ON v.id = sc.submission_id
    WHERE sc.edition_id IN ({editions}) AND sc.is_baseline = %(yes)s AND {present}
      AND {rankable} AND v.moderation IN ({ranked}) AND v.hidden_by_host = %(no)s
)
SELECT s.*, {values}, {n_images} AS scored_images, t.name AS team_name,
       ROW_NUMBER() OVER (PARTITION BY {by_edition}e.is_baseline ORDER BY {order}) AS position,
       ROW_NUMBER() OVER (ORDER BY {order}) AS row_index,
       COUNT(*) OVER () AS total_rows{bests}
FROM entries e
JOIN {score} sc ON sc.submission_id = e.submission_id
JOIN {submission} s ON s.id = e.submission_id
LEFT JOIN {team} t ON t.id = s.team_id
WHERE {present}
ORDER BY {order}
"""

# The first entry of the team in the index of ``column`` (a final only, if so asked).
_PROBE = """(
               SELECT b.submission_id FROM {score} b
               JOIN {submission} v ON v.id = b.submission_id
               WHERE b.team_id = t.id AND {condition} AND {rankable}
                 AND v.moderation IN ({ranked}){finals}
               ORDER BY {order}
               LIMIT 1
           )"""

# The rows asked for, with each team's entry count (an index-only scan each, for these rows).
_ROWS = """
SELECT board.*,
       CASE WHEN board.is_baseline = %(yes)s THEN 1 ELSE (
           SELECT COUNT(*) FROM {score} c WHERE c.team_id = board.team_id AND {counted}
       ) END AS team_entries
FROM ({board}) board
WHERE {where}
ORDER BY board.row_index
"""


_ROWS_UNCOUNTED = """
SELECT board.*, NULL AS team_entries
FROM ({board}) board
WHERE {where}
ORDER BY board.row_index
"""


def _board_sql(
    ranking: Ranking, *, bests: bool, extra: tuple[str, ...] = (), where: str = "TRUE"
) -> str:
    """The whole board; ``where`` (on ``board.``'s ranks) is applied again around it, and
    before the joins where the board is ranked on the stored keys."""
    metric, parts = ranking.metric, ranking.parts
    tables = _tables(ranking)
    private = any(part == PRIVATE for part in parts.values())
    best_private = ""
    if private:
        probe = _probe(metric, PRIVATE, finals=ranking.finals, tables=tables, ranking=ranking)
        best_private = f",\n           {probe} AS best_private"
    pick_private = "COALESCE(best_private, best_public)" if ranking.finals else "best_private"
    order = _order(metric, _value(metric, parts, "sc"), "sc")
    values = [f"{_value(m, parts, 'sc')} AS {m.alias}" for m in METRICS]
    values.append(f"{_value(metric, parts, 'sc')} AS metric_value")
    other = next(m for m in METRICS if m != metric)  # top-1; top-5 beside top-1
    values.append(f"{_value(other, parts, 'sc')} AS other_value")
    live = connection.ops.quote_name(Score._meta.db_table)  # not the freeze's: its record
    values += [
        f"(SELECT x.{column} FROM {live} x WHERE x.submission_id = s.id) AS score_{column}"
        for column in extra  # the model's columns
    ]
    best_columns = "".join(
        f",\n       {'MIN' if m.lower_is_better else 'MAX'}({_value(m, parts, 'sc')}) "
        f"OVER (PARTITION BY s.edition_id, e.is_baseline) AS best_{m.key}"
        for m in (METRICS if bests else ())
    )
    stored = _stored(ranking)
    if stored and _ranks_as_stored(ranking, bests=bests):
        # The live score table: each extra column from the row's own score, no lookup.
        values[len(values) - len(extra) :] = [f"sc.{column} AS score_{column}" for column in extra]
        keyed = _stored_values() if bests else []
        return _STORED_BOARD.format(
            team_values="".join(f", tb.{column} AS {column}" for _, column in keyed),
            baseline_values="".join(f", {_value(m, parts, 'sc')} AS {c}" for m, c in keyed),
            best_windows="".join(
                f",\n           {'MIN' if m.lower_is_better else 'MAX'}(k.{column}) "
                f"OVER (PARTITION BY k.edition_id, k.is_baseline) AS best_{m.key}"
                for m, column in keyed
            ),
            bests="".join(f", e.best_{m.key}" for m, _ in keyed),
            metric=metric.key,
            editions=", ".join(str(int(pk)) for pk in sorted(parts)),
            value=_value(metric, parts, "sc"),
            present=_present(ranking, "sc"),
            values=", ".join(values),
            where=where.replace("board.is_baseline", "e.baseline").replace("board.", "e."),
            n_images=_per_part(parts, "sc", "sc.public_n_images", "sc.private_n_images"),
            by_edition="k.edition_id, " if len(parts) > 1 else "",
            order=_order(metric, "k.value", "k"),
            **tables,
        )
    # Computed once per team on PostgreSQL (inlined, the pick would be evaluated twice). Keep
    # the planner's cost estimate low: past jit_above_cost it spends ~40 ms compiling.
    materialized = "MATERIALIZED" if connection.vendor == "postgresql" else ""
    if stored:
        best_public, stored = "tb.submission_id", _STORED_JOIN.format(metric=metric.key)
    else:
        best_public = _probe(metric, PUBLIC, finals=False, tables=tables, ranking=ranking)
        stored = ""
    return _TEAM_BEST.format(
        materialized=materialized,
        best_public=best_public,
        stored=stored,
        best_private=best_private,
        editions=", ".join(str(int(pk)) for pk in sorted(parts)),
        pick=_per_part(parts, "team_best", "best_public", pick_private),
        present=_present(ranking, "sc"),
        values=", ".join(values),
        n_images=_per_part(parts, "sc", "sc.public_n_images", "sc.private_n_images"),
        by_edition="s.edition_id, " if len(parts) > 1 else "",
        order=order,
        bests=best_columns,
        **tables,
    )


# The team's best public entry as stored (``selectors.team_best``) instead of its probe.
_STORED_JOIN = """
    LEFT JOIN leaderboard_team_best tb ON tb.team_id = t.id AND tb.metric = '{metric}'"""


# A board ranked on the public part by a metric whose stored best has its value: ranked on the
# stored keys alone, so that only the rows asked for are joined to their score, entry and team
# (10,000 teams: the page's 100 rows instead of every team's). The same order and rows as
# _TEAM_BEST's: each team's stored pick has the value, and a baseline is a row as there.
_STORED_BOARD = """
WITH keys AS (
    SELECT tb.submission_id, %(no)s AS is_baseline, tb.is_baseline AS baseline, t.edition_id,
           tb.value, tb.submitted_at{team_values}
    FROM {team} t
    JOIN leaderboard_team_best tb ON tb.team_id = t.id AND tb.metric = '{metric}'
    WHERE t.edition_id IN ({editions})
    UNION ALL
    SELECT sc.submission_id, sc.is_baseline, sc.is_baseline, sc.edition_id, {value} AS value,
           sc.submitted_at{baseline_values}
    FROM {score} sc
    JOIN {submission} v ON v.id = sc.submission_id
    WHERE sc.edition_id IN ({editions}) AND sc.is_baseline = %(yes)s AND {present}
      AND {rankable} AND v.moderation IN ({ranked}) AND v.hidden_by_host = %(no)s
),
ranked AS (
    SELECT k.submission_id, k.baseline,
           ROW_NUMBER() OVER (PARTITION BY {by_edition}k.is_baseline ORDER BY {order}) AS position,
           ROW_NUMBER() OVER (ORDER BY {order}) AS row_index,
           COUNT(*) OVER () AS total_rows{best_windows}
    FROM keys k
)
SELECT s.*, {values}, {n_images} AS scored_images, t.name AS team_name,
       e.position, e.row_index, e.total_rows{bests}
FROM ranked e
JOIN {score} sc ON sc.submission_id = e.submission_id
JOIN {submission} s ON s.id = e.submission_id
LEFT JOIN {team} t ON t.id = s.team_id
WHERE {where}
ORDER BY e.row_index
"""


def _ranks_as_stored(ranking: Ranking, *, bests: bool) -> bool:
    """Whether the stored keys order the board: every edition on its public part, by a metric
    whose entries without a value are left off (a stored pick then always has one); for
    ``bests``, every metric's value is stored with the pick."""
    if ranking.metric.unscored == LAST or any(p != PUBLIC for p in ranking.parts.values()):
        return False
    return not bests or len(_stored_values()) == len(METRICS)


def _stored_values() -> list[tuple[RankedMetric, str]]:
    """Each metric whose public value the stored best keeps, with its column there."""
    from .team_best import stored_metrics, value_column  # it builds on this module

    return [(metric, value_column(metric)) for metric in stored_metrics()]


def _stored(ranking: Ranking) -> bool:
    """Whether the teams' best public entries may be read as stored: not on a frozen board
    (it ranks the scores held at the freeze), and only where they are kept as this code
    ranks (PostgreSQL, installed from this registry)."""
    if ranking.frozen or not ranking.metric.indexed or connection.vendor != "postgresql":
        return False
    from .team_best import stored_metrics, team_best_ready  # it builds on this module

    return ranking.metric in stored_metrics() and team_best_ready()


def public_best_sql(metric: RankedMetric) -> str:
    """A team's best public entry by ``metric`` as the live board picks it (``t.id``: the
    team), its parameters written in as literals: the text ``selectors.team_best`` stores the
    result of, so that the stored best and the live board follow one rule."""
    ranking = Ranking(metric=metric, parts={})
    sql = _probe(metric, PUBLIC, finals=False, tables=_tables(ranking), ranking=ranking)
    assert all(value.isalpha() for value in _RANKABLE_PARAMS.values())
    return sql % {key: f"'{value}'" for key, value in _RANKABLE_PARAMS.items()}


def _probe(metric: RankedMetric, part: str, *, finals: bool, tables: dict, ranking: Ranking) -> str:
    """A team's best entry by ``metric`` on ``part``: the first of its index; for a metric
    ranked LAST when missing, else the team's earliest entry scored on a non-empty part."""
    column = metric.column(part)
    best = _team_first(
        condition=f"b.{column} IS NOT NULL",
        keys=f"b.{column} AS k_value, b.submitted_at",
        # On the score row ``b`` its column; on a frozen probe's pick ``p``, the selected key.
        order=lambda alias: _order(
            metric, f"b.{column}" if alias == "b" else f"{alias}.k_value", alias
        ),
        finals=finals,
        tables=tables,
        ranking=ranking,
    )
    if metric.unscored != LAST:
        return best
    earliest = _team_first(
        condition=f"b.{part}_n_images > 0",
        keys="b.submitted_at",
        order=lambda alias: f"{alias}.submitted_at, {alias}.submission_id",
        finals=finals,
        tables=tables,
        ranking=ranking,
    )
    return f"COALESCE({best}, {earliest})"


# A frozen board's probe: the first entry of the team among the scores current at the freeze
# (an index walk that skips later ones) and among the superseded scores current then (few
# rows: re-runs), the better of the two. Each branch keeps its own LIMIT, so that PostgreSQL
# plans the first as the same index probe as a live board's.
_FROZEN_PROBE = """(
               SELECT p.submission_id FROM (
                   (SELECT b.submission_id, {keys} FROM {score_table} b
                    JOIN {submission} v ON v.id = b.submission_id
                    WHERE b.team_id = t.id AND {condition} AND {rankable}
                      AND v.moderation IN ({ranked}){finals} AND {current_then}
                    ORDER BY {order} LIMIT 1)
                   UNION ALL
                   (SELECT b.submission_id, {keys} FROM {superseded} b
                    JOIN {submission} v ON v.id = b.submission_id
                    WHERE b.team_id = t.id AND {condition} AND {rankable}
                      AND v.moderation IN ({ranked}){finals} AND {superseded_then}
                    ORDER BY {order} LIMIT 1)
               ) p
               ORDER BY {outer_order}
               LIMIT 1
           )"""


def _team_first(
    *,
    condition: str,
    keys: str,
    order: Callable[[str], str],
    finals: bool,
    tables: dict,
    ranking: Ranking,
) -> str:
    """The team's first entry by ``order`` (a function of the row alias) among its scores that
    meet ``condition`` (on alias ``b``): one index probe, or two on a frozen board."""
    finals_sql = " AND v.is_final" if finals else ""
    if not ranking.frozen:
        return _PROBE.format(condition=condition, finals=finals_sql, order=order("b"), **tables)
    quote = connection.ops.quote_name
    frozen = ", ".join(str(int(pk)) for pk in sorted(ranking.frozen))
    cutoff = _cutoff(ranking, "b")
    return _FROZEN_PROBE.format(
        keys=keys,
        condition=condition,
        finals=finals_sql,
        order=order("b"),
        outer_order=order("p"),
        score_table=quote(Score._meta.db_table),
        superseded=quote(SupersededScore._meta.db_table),
        current_then=f"(b.edition_id NOT IN ({frozen}) OR b.created_at <= {cutoff})",
        superseded_then=(
            f"b.edition_id IN ({frozen}) AND b.scored_at <= {cutoff} AND b.superseded_at > {cutoff}"
        ),
        **tables,
    )


def _cutoff(ranking: Ranking, alias: str) -> str:
    """The freeze time of the row's edition, as a parameter (a CASE over several editions)."""
    frozen = sorted(ranking.frozen)
    if len(frozen) == 1:
        return f"%(frozen_{int(frozen[0])})s"
    whens = " ".join(f"WHEN {int(pk)} THEN %(frozen_{int(pk)})s" for pk in frozen)
    return f"CASE {alias}.edition_id {whens} END"


def _value(metric: RankedMetric, parts: Mapping[int, str], alias: str) -> str:
    """The metric's value, on its edition's part, of the score row ``alias``."""
    return _per_part(
        parts,
        alias,
        f"{alias}.{metric.column(PUBLIC)}",
        f"{alias}.{metric.column(PRIVATE)}",
    )


def _per_part(parts: Mapping[int, str], alias: str, public: str, private: str) -> str:
    """``public`` or ``private`` SQL depending on the part that ranks the row's edition."""
    on_private = sorted(pk for pk, part in parts.items() if part == PRIVATE)
    if not on_private:
        return public
    if len(on_private) == len(parts):
        return private
    ids = ", ".join(str(int(pk)) for pk in on_private)
    return f"CASE WHEN {alias}.edition_id IN ({ids}) THEN {private} ELSE {public} END"


def _present(ranking: Ranking, alias: str) -> str:
    """Whether a score row ``alias`` belongs on the board: it has the value, or, for a metric
    ranked LAST when missing, it was scored on a non-empty part."""
    parts = ranking.parts
    if ranking.metric.unscored == LAST:
        scored = _per_part(parts, alias, f"{alias}.public_n_images", f"{alias}.private_n_images")
        return f"{scored} > 0"
    return f"{_value(ranking.metric, parts, alias)} IS NOT NULL"


def _order(metric: RankedMetric, value: str, alias: str) -> str:
    """Best first (by the metric's direction; missing values last), then the earlier entry."""
    missing = f"CASE WHEN {value} IS NULL THEN 1 ELSE 0 END, " if metric.unscored == LAST else ""
    direction = "" if metric.lower_is_better else " DESC"
    return f"{missing}{value}{direction}, {alias}.submitted_at, {alias}.submission_id"
