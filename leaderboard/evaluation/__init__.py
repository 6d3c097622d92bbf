"""The one bridge between the site and the evaluator.

Only this package imports ``evaluator`` (an import contract in ``pyproject.toml`` keeps it so):

- ``config``: the scoring settings, read once into a typed ``ScoringConfig``;
- ``jobs``: what a worker needs to run a model, as plain values;
- ``runs``: every sandboxed run the site asks for (score, slice, merge, insights);
- ``outcomes``: what an evaluator error or a Celery time limit means for the submission;
- ``datasets``, ``robustness``, ``formats``, ``shards``: the evaluator's importers, copies,
  format detector and slicing, as the site uses them.
"""

from leaderboard.evaluation.config import ScoringConfig
from leaderboard.evaluation.jobs import MergeJob, ScoringJob, ShardJob
from leaderboard.evaluation.outcomes import Action, Outcome, outcome_of

__all__ = [
    "Action",
    "MergeJob",
    "Outcome",
    "ScoringConfig",
    "ScoringJob",
    "ShardJob",
    "outcome_of",
]
