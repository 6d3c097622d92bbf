"""A challenge's year-by-year history: each edition's winner and runner-up, its numbers, the best
baseline of each year, and the reported results; plus the chart's cloud of entries.

Every edition is ranked by the one ranking (``selectors.ranking``), all in one query, each on the
part that ``ranking.edition_phase`` says it shows now (public while it runs, private over the
finals once closed), by the challenge's metric. Baselines are placed at the year of their paper
(``method_year``): the best of a year is the best of them by the same metric, in its edition's
part. Each entry carries every registered metric's value in its part (``entry.top5``,
``entry.robust``...; None where it was not scored for it). Three queries, whatever the number
of submissions.

The chart's cloud holds every scored entry of an edition with up to ``CLOUD_CAP`` of them, and
above that each team's entry on the edition's board, for its first ``CLOUD_CAP`` teams (the
same ranking, so the winner and the record are exact): 100,000 points cost seconds per request
and draw an unreadable blot, where one point per team still shows how the field spread out.
Counting an edition's entries stops at the cap, so the cost follows the cap and the teams'
index probes, not the submissions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from leaderboard.metrics import METRICS, PRIVATE, PUBLIC, RankedMetric, metric_get, metrics_shown
from leaderboard.models import (
    RANKED_MODERATION,
    Challenge,
    Edition,
    ReferenceResult,
    Score,
    Submission,
    Team,
)

from .ranking import Ranking, board_freezes, edition_phase, ranked_plain_rows

_KEYS = frozenset(m.key for m in METRICS)

# Above this many scored entries, an edition's cloud is each team's entry on its board, for
# its first CLOUD_CAP teams.
CLOUD_CAP = 2000


class _MetricValues:
    """Metric values by key (``values``, ``bests``), also read as attributes: ``entry.top5``,
    ``summary.best_top1``, in templates and serializers alike."""

    def __getattr__(self, name: str) -> float | None:
        if name in _KEYS:
            return (self.__dict__.get("values") or {}).get(name)
        if name.startswith("best_") and name[5:] in _KEYS:
            return (self.__dict__.get("bests") or {}).get(name[5:])
        raise AttributeError(name)


@dataclass(frozen=True)
class Entry(_MetricValues):
    """A ranked entry as the history shows it: who, what, and its metrics in its part."""

    submission_id: str
    team: str | None
    method: str
    year: int  # the edition's year (a baseline: the year of its paper)
    values: dict[str, float | None] = field(default_factory=dict)  # metric key -> value


@dataclass
class YearRow:
    """One year: our edition(s) of it, the best baseline of its papers, what was reported."""

    year: int
    editions: list[EditionSummary] = field(default_factory=list)
    baseline: Entry | None = None  # the best baseline whose paper is from this year
    baselines: list[Entry] = field(default_factory=list)
    reported: list[ReferenceResult] = field(default_factory=list)


@dataclass
class EditionSummary(_MetricValues):
    edition: Edition
    final: bool  # closed: ranked on the private part over the finals
    n_teams: int
    n_submissions: int
    winner: Entry | None = None
    runner_up: Entry | None = None
    bests: dict[str, float | None] = field(default_factory=dict)  # per metric, over the teams


@dataclass(frozen=True)
class History:
    challenge: Challenge
    metric: str  # the key of the challenge's ranking metric
    years: list[YearRow]
    parts: dict[int, str] = field(default_factory=dict)  # edition id -> the part it shows
    metrics: tuple[RankedMetric, ...] = ()  # shown beside each entry: the ranked one first
    frozen: dict[int, dt.datetime] = field(default_factory=dict)  # public boards frozen now
    # Edition id -> its first CLOUD_CAP teams' rows on its board, best first: the cloud of a
    # crowded edition reads them instead of ranking again.
    boards: dict[int, list] = field(default_factory=dict, repr=False)

    @property
    def metric_label(self) -> str:
        return metric_get(self.metric).label

    @property
    def editions(self) -> list[Edition]:
        return [summary.edition for row in self.years for summary in row.editions]


@dataclass(frozen=True)
class HistoryPoint(_MetricValues):
    """One scored participant submission, for the chart's cloud of points."""

    submission_id: str
    edition_id: int
    year: int
    fraction: float  # how far into its edition it was submitted, 0..1
    created_at: dt.datetime
    team: str | None
    method: str
    values: dict[str, float | None] = field(default_factory=dict)
    per_team: bool = False  # its team's entry on a crowded edition's board (``CLOUD_CAP``)


def challenge_history(*, challenge: Challenge, now: dt.datetime | None = None) -> History:
    """Every year with an edition, a baseline paper or a reported result, oldest first."""
    now = now or timezone.now()
    metric = metric_get(challenge.primary_metric)
    editions = list(
        Edition.objects.filter(challenge=challenge)
        .annotate(n_teams=_teams_that_submitted(), n_submissions=_participant_submissions())
        .order_by("year", "opens_at", "pk")
    )
    parts = {e.pk: edition_phase(edition=e, now=now) for e in editions}
    summaries = {}
    years: dict[int, YearRow] = {}
    for e in editions:
        e.challenge = challenge  # the page links each edition: no query per edition
        summaries[e.pk] = EditionSummary(
            edition=e,
            final=parts[e.pk] == PRIVATE,
            n_teams=e.n_teams,
            n_submissions=e.n_submissions,
        )
        _year(years, e.year).editions.append(summaries[e.pk])
    frozen = board_freezes(editions=editions, parts=parts, now=now)
    ranking = Ranking(metric=metric, parts=parts, frozen=frozen)
    baselines = []
    boards: dict[int, list] = {pk: [] for pk in parts}
    for row in ranked_plain_rows(ranking=ranking, places=CLOUD_CAP, bests=True):
        edition = summaries[row.edition_id].edition
        if row.is_baseline:
            if row.method_year is not None:
                baselines.append((_entry(row, year=row.method_year), row, edition.year))
            continue
        boards[row.edition_id].append(row)
        if row.position > 2:
            continue
        summary = summaries[row.edition_id]
        summary.bests = {m.key: getattr(row, f"best_{m.key}") for m in METRICS}
        entry = _entry(row, year=edition.year)
        if row.position == 1:
            summary.winner = entry
        else:
            summary.runner_up = entry
    _place_baselines(years, baselines, metric)
    for reported in ReferenceResult.objects.filter(challenge=challenge).order_by(
        "year", "top5_error", "top1_error", "team"
    ):
        _year(years, reported.year).reported.append(reported)
    return History(
        challenge=challenge,
        metric=metric.key,
        years=[years[y] for y in sorted(years)],
        parts=parts,
        metrics=tuple(metrics_shown(challenge=challenge, first=metric)),
        frozen=frozen,
        boards=boards,
    )


def challenge_history_points(
    *,
    challenge: Challenge,
    now: dt.datetime | None = None,
    parts: Mapping[int, str] | None = None,
    frozen: Mapping[int, dt.datetime] | None = None,
    editions: Iterable[Edition] | None = None,
    boards: Mapping[int, list] | None = None,
    cap: int = CLOUD_CAP,
) -> list[HistoryPoint]:
    """The chart's cloud, oldest first, with each entry's metrics in the part its edition shows
    (``parts``, as ``History.parts``; read from the editions if None): every scored, ranked
    participant entry of an edition with up to ``cap`` of them, else each team's entry on the
    edition's board (``ranked_rows``: its best, or its finals' best once closed), for the
    board's first ``cap`` teams. A score
    recorded after its edition's freeze (``frozen``, as ``History.frozen``) is left out as the
    boards leave it out. ``editions`` and ``boards``: as ``History.editions`` and
    ``History.boards`` (else read and ranked here)."""
    now = now or timezone.now()
    if editions is None:
        editions = Edition.objects.filter(challenge=challenge).only(
            "year", "opens_at", "closes_at", "board_frozen_at"
        )
    editions = {e.pk: e for e in editions}
    if parts is None:
        parts = {pk: edition_phase(edition=e, now=now) for pk, e in editions.items()}
        frozen = board_freezes(editions=list(editions.values()), parts=parts, now=now)
    parts = {pk: part for pk, part in parts.items() if pk in editions}
    frozen = {pk: at for pk, at in (frozen or {}).items() if pk in parts}
    if not parts:
        return []
    entries = _cloud_entries(parts=parts, frozen=frozen)
    crowded = _crowded(entries, editions=sorted(parts), cap=cap)
    points = []
    every = [pk for pk in parts if pk not in crowded]
    if every:
        for row in entries.filter(edition_id__in=every):
            edition = editions[row["edition_id"]]
            values = {m.key: row[m.alias] for m in METRICS}
            points.append(
                _point(
                    row["submission_id"],
                    edition,
                    row["submitted_at"],
                    row["team_label"],
                    row["method"],
                    values,
                )
            )
    if crowded and boards is None:
        ranking = Ranking(
            metric=metric_get(challenge.primary_metric),
            parts={pk: parts[pk] for pk in crowded},
            frozen={pk: at for pk, at in frozen.items() if pk in crowded},
        )
        boards = {pk: [] for pk in crowded}
        for row in ranked_plain_rows(ranking=ranking, places=cap):
            if not row.is_baseline:
                boards[row.edition_id].append(row)
    for row in (row for pk in crowded for row in list(boards.get(pk, ()))[:cap]):
        values = {m.key: getattr(row, m.alias) for m in METRICS}
        edition = editions[row.edition_id]
        points.append(
            _point(
                row.pk, edition, row.created_at, row.team_name, row.method_name, values,
                per_team=True,
            )
        )  # fmt: skip
    points.sort(key=lambda p: (p.created_at, p.submission_id))
    return points


def _cloud_entries(*, parts: Mapping[int, str], frozen: Mapping[int, dt.datetime]) -> QuerySet:
    """Every scored, ranked participant entry of these editions with its values on its part."""
    private = [pk for pk, part in parts.items() if part == PRIVATE]
    values = {
        m.alias: Case(
            When(edition_id__in=private, then=F(m.column(PRIVATE))),
            default=F(m.column(PUBLIC)),
        )
        for m in METRICS
    }
    rows = Score.objects.filter(
        edition_id__in=list(parts),
        is_baseline=False,
        submission__status=Submission.Status.SCORED,
        submission__moderation__in=RANKED_MODERATION,
    )
    if frozen:
        rows = rows.exclude(_after_freezes(frozen))
    return (
        rows.annotate(**values, method=F("submission__method_name"), team_label=F("team__name"))
        .values("submission_id", "edition_id", "submitted_at", "method", "team_label", *values)
        .order_by("submitted_at", "submission_id")
    )


def _point(
    submission_id: object,
    edition: Edition,
    submitted_at: dt.datetime,
    team: str | None,
    method: str,
    values: dict[str, float | None],
    *,
    per_team: bool = False,
) -> HistoryPoint:
    span = (edition.closes_at - edition.opens_at).total_seconds()
    elapsed = (submitted_at - edition.opens_at).total_seconds()
    return HistoryPoint(
        submission_id=str(submission_id),
        edition_id=edition.pk,
        year=edition.year,
        fraction=min(1.0, max(0.0, elapsed / span)) if span > 0 else 0.0,
        created_at=submitted_at,
        team=team,
        method=method,
        values=values,
        per_team=per_team,
    )


def _participant_submissions() -> Coalesce:
    """An edition's participant submissions, counted from an index alone (migration 0019)."""
    rows = Submission.objects.filter(edition=OuterRef("pk"), is_baseline=False)
    count = rows.order_by().values("edition").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def _teams_that_submitted() -> Coalesce:
    """An edition's teams with a submission: one index probe per team, not a pass over every
    submission (a team's submissions are never baselines)."""
    teams = Team.objects.filter(edition=OuterRef("pk")).filter(
        Exists(Submission.objects.filter(team=OuterRef("pk")))
    )
    count = teams.order_by().values("edition").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def _entry(row: Submission, *, year: int) -> Entry:
    return Entry(
        submission_id=str(row.pk),
        team=row.team_name,
        method=row.method_name,
        year=year,
        values={m.key: getattr(row, m.alias) for m in METRICS},
    )


def _place_baselines(
    years: dict[int, YearRow], baselines: list[tuple[Entry, Submission, int]], metric: RankedMetric
) -> None:
    """Each paper year's baselines, the best first by the ranking's order, whatever their
    edition; listed by paper year, then edition year, then that place. One model entered on
    several editions (``services.edition_baselines``) with the same value is one point."""
    ordered = sorted(
        baselines, key=lambda b: (*metric.sort_key(b[1].metric_value), b[1].created_at, b[1].pk)
    )
    place: dict[int, int] = {}
    placed = []
    seen = set()
    for entry, row, edition_year in ordered:
        model = (row.method_name, row.original_name, row.metric_value)
        if model in seen:
            continue
        seen.add(model)
        place[entry.year] = place.get(entry.year, 0) + 1
        placed.append((entry.year, edition_year, place[entry.year], entry))
    for paper_year, _, rank, entry in sorted(placed, key=lambda p: p[:3]):
        year_row = _year(years, paper_year)
        year_row.baselines.append(entry)
        if rank == 1:
            year_row.baseline = entry


def _year(years: dict[int, YearRow], year: int) -> YearRow:
    if year not in years:
        years[year] = YearRow(year=year)
    return years[year]


def _after_freezes(frozen: Mapping[int, dt.datetime]) -> Q:
    """Scores recorded after the freeze of an edition whose public board is frozen now."""
    after = Q()
    for pk, at in frozen.items():
        after |= Q(edition_id=pk, created_at__gt=at)
    return after


def _crowded(entries: QuerySet, *, editions: list[int], cap: int) -> set[int]:
    """The editions with more than ``cap`` of ``entries``, reading at most ``cap + 1`` of each
    (unsorted: a sort would read them all); in one query where the database allows a LIMIT in
    each part of a UNION (PostgreSQL; not SQLite)."""
    heads = [
        entries.filter(edition_id=pk).order_by().values("edition_id")[: cap + 1] for pk in editions
    ]
    if not connection.features.supports_slicing_ordering_in_compound:
        return {pk for pk, head in zip(editions, heads, strict=True) if head.count() > cap}
    first, *rest = heads
    sql, params = first.union(*rest, all=True).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT edition_id FROM ({sql}) heads GROUP BY edition_id HAVING COUNT(*) > %s",
            [*params, cap],
        )
        return {pk for (pk,) in cursor.fetchall()}
