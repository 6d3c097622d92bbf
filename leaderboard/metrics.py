"""The ranked metrics: each declared once here, and read by everything that shows or ranks one.

A declaration says what the metric is called, which way is better, how its values are printed,
where the evaluator's report holds it, where it lives on the Score row for the whole set and for
each part of the hidden set, and that the score table keeps a ranking index for it. From these the
Score model gets its columns and indexes, the Challenge its choice of ranking metric, the scoring
service its mapping of a report onto a row, and the boards, charts, CSV files, API serialisers
and templates their columns. Adding a metric is one declaration (plus the migration Django then
writes) once the evaluator reports it.

Like torchvision's model registry (``models/_api.py``): one place names a thing, every consumer
looks it up, and tests loop over ``METRICS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import models

PUBLIC, PRIVATE, ALL = "public", "private", "all"
PARTS = (ALL, PUBLIC, PRIVATE)
DASH = "\u2013"  # shown for a value the score does not have

# What a board does with an entry that has no value for its metric (and that part is not empty).
OMIT = "omit"  # it is not on the board: an optional track the entry was not scored for
LAST = "last"  # it is ranked after every entry that has one: a metric added after it was scored


def fixed(value: float, digits: int) -> str:
    """``floatformat:digits`` without its localisation lookups (3 us a call instead of 35, which
    adds up over a board's rows): the same half-up rounding of the shortest repr."""
    exponent = Decimal(1).scaleb(-int(digits))
    return str(Decimal(repr(float(value))).quantize(exponent, rounding=ROUND_HALF_UP))


def percent(value: float, digits: int) -> str:
    """A fraction as a percentage with ``digits`` decimals (0.09565 -> "9.57%"), rounded as
    ``fixed`` rounds: shifted by two places in decimal, so 0.0956 prints 9.56%, not 9.559...%."""
    exponent = Decimal(1).scaleb(-int(digits))
    shifted = Decimal(repr(float(value))).scaleb(2)
    return f"{shifted.quantize(exponent, rounding=ROUND_HALF_UP)}%"


def report_paths(key: str) -> dict[str, tuple[str, ...]]:
    """Where ``evaluator.metrics.classification_report`` puts a per-part figure ``key``: at the
    top level for the whole set, under "public" and "private" for the parts."""
    return {ALL: (key,), PUBLIC: (PUBLIC, key), PRIVATE: (PRIVATE, key)}


@dataclass(frozen=True)
class RankedMetric:
    key: str  # stored in Challenge.primary_metric; the API's and the CLI's name for it
    label: str  # "Top-5 error"
    short_label: str  # "top-5", where the label would be too long (history cells)
    description: str  # tooltips, API schema, admin help
    field: str  # Score's column for the whole set; the parts' are "public_<field>", ...
    report: dict[str, tuple[str, ...]]  # part -> path of keys to its value in the evaluator report
    lower_is_better: bool = True
    decimals: int = 2  # pages print the value as a percentage with this many decimals (16.42%)
    required: bool = False  # every score has it: its whole-set column is NOT NULL
    unscored: str = OMIT  # what a board does with an entry lacking it: OMIT or LAST
    rankable: bool = True  # a challenge may choose it to rank its boards
    track: str = ""  # the Challenge flag that must be on for boards to show it ("" = always)
    indexed: bool = True  # a partial index per part on (team, value, time, id) for the ranking

    def column(self, part: str) -> str:
        """Score's column holding the value on ``part`` (ALL, PUBLIC or PRIVATE)."""
        if part not in PARTS:
            raise ValueError(f"unknown part {part!r}")
        return self.field if part == ALL else f"{part}_{self.field}"

    def index_name(self, part: str) -> str:
        return f"score_team_{part}_{self.key}"

    @property
    def alias(self) -> str:
        """The attribute a ranked row carries the value under (``row.top5_value``)."""
        return f"{self.key}_value"

    def from_report(self, report: dict, part: str) -> float | None:
        """The value on ``part`` in an evaluator result, None where it has none."""
        value: object = report
        for key in self.report[part]:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return None if value is None else float(value)  # type: ignore[arg-type]

    def format(self, value: float | None) -> str:
        """The value as the pages print it (``16.42%``), a dash where the score has none. The
        CSV files and the API keep the fraction (0.1642), in columns named ``*_error``."""
        return DASH if value is None or value == "" else percent(value, self.decimals)

    def sort_key(self, value: float | None) -> tuple[int, float]:
        """Orders values best first, a missing one last (as the ranking query does)."""
        if value is None:
            return (1, 0.0)
        return (0, value if self.lower_is_better else -value)

    def best(self, values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        if not present:
            return None
        return min(present) if self.lower_is_better else max(present)

    def shown_for(self, challenge: object) -> bool:
        """Whether a board of this challenge shows the metric (its track is on, if it has one)."""
        return not self.track or bool(getattr(challenge, self.track, False))


TOP1 = RankedMetric(
    key="top1",
    label="Top-1 error",
    short_label="top-1",
    description="Fraction of images whose highest-scoring class is not the label (ILSVRC).",
    field="top1_error",
    report=report_paths("top1_error"),
    required=True,
)
TOP5 = RankedMetric(
    key="top5",
    label="Top-5 error",
    short_label="top-5",
    description=(
        "Fraction of images whose label is not among the five highest-scoring classes "
        "(ILSVRC's ranking metric; k is clamped to the number of classes)."
    ),
    field="top5_error",
    report=report_paths("top5_error"),
    required=True,
)
BALANCED = RankedMetric(
    key="balanced",
    label="Mean per-class error",
    short_label="per-class",
    description=(
        "Balanced error: 1 - the mean over classes of each class's top-1 recall, over the "
        "classes present in that part (scikit-learn's 1 - balanced_accuracy_score). Every class "
        "counts the same, however many images it has."
    ),
    field="balanced_error",
    report=report_paths("balanced_error"),
    unscored=LAST,  # scores recorded before it existed have none: shown as a dash, ranked last
)
ROBUST = RankedMetric(
    key="robust",
    label="Robust error",
    short_label="robust",
    description=(
        "Robustness track: mean top-1 error over 12 transformed copies of the hidden set "
        "(the flip control excluded), in the spirit of ImageNet-C's mean corruption error."
    ),
    field="robust_error",
    report={
        part: ("robustness", "summary", part, "mean_top1_error") for part in (ALL, PUBLIC, PRIVATE)
    },
    rankable=False,  # it ranks the robustness board, not a challenge's main one
    track="robustness",
)

# Declaration order is the order of the columns beside the ranked one.
METRICS: tuple[RankedMetric, ...] = (TOP1, TOP5, BALANCED, ROBUST)
_BY_KEY = {metric.key: metric for metric in METRICS}
assert len(_BY_KEY) == len(METRICS), "metric keys must be unique"

# The choices of Challenge.primary_metric (Metric.TOP5 == "top5").
Metric = models.TextChoices(
    "Metric", [(m.key.upper(), (m.key, m.label)) for m in METRICS if m.rankable]
)
DEFAULT_METRIC = TOP5  # as ILSVRC
TOP5_FROM_CLASSES = 20  # below this many classes a top-5 guess is nearly always right


def metric_for_classes(num_classes: int) -> str:
    """The ranking metric a set of ``num_classes`` classes calls for: top-1 error below 20
    classes (top-5 of 10 is nearly always right), top-5 error from 20 up."""
    return TOP5.key if num_classes >= TOP5_FROM_CLASSES else TOP1.key


def metric_get(key: str | RankedMetric) -> RankedMetric:
    """The declaration of ``key``; ValueError for a name nothing declares."""
    if isinstance(key, RankedMetric):
        return key
    try:
        return _BY_KEY[str(key)]
    except KeyError:
        raise ValueError(f"unknown metric {key!r}; known: {', '.join(_BY_KEY)}") from None


def metrics_shown(*, challenge: object, first: RankedMetric | str | None = None) -> list:
    """The metrics a board of ``challenge`` shows: ``first`` (the ranked one), then the others
    in declaration order, leaving out those of a track the challenge does not run."""
    lead = metric_get(first) if first is not None else None
    rest = [m for m in METRICS if m != lead and m.shown_for(challenge)]
    return [lead, *rest] if lead is not None else rest


def score_values(result: dict, *, metrics: tuple[RankedMetric, ...] = METRICS) -> dict:
    """Score's metric columns from an evaluator result (required ones must be present)."""
    values = {}
    for metric in metrics:
        for part in PARTS:
            value = metric.from_report(result, part)
            if value is None and metric.required and part == ALL:
                raise ValueError(f"the result has no {metric.field}")
            values[metric.column(part)] = value
    return values


def score_columns() -> dict[str, models.Field]:
    """Score's float column for each metric and part: NOT NULL for a required metric's whole
    set, else null where the score has no value."""
    return {
        metric.column(part): (
            models.FloatField()
            if metric.required and part == ALL
            else models.FloatField(null=True, blank=True)
        )
        for metric in METRICS
        for part in PARTS
    }


def score_indexes() -> list[models.Index]:
    """Per indexed metric and part, a partial index on (team, value, time, id) of the entries
    that have a value: a team's best entry is the first index entry of the team."""
    return [
        models.Index(
            fields=[
                "team",
                ("" if metric.lower_is_better else "-") + metric.column(part),
                "submitted_at",
                "submission",
            ],
            condition=models.Q(**{f"{metric.column(part)}__isnull": False}),
            name=metric.index_name(part),
        )
        for metric in METRICS
        if metric.indexed
        for part in (PUBLIC, PRIVATE)
    ]
