"""Check a model file on public sample images without spending a submission.

- ``run``: the trusted parent: runs the model through scoring's own launcher and child on a
  temporary set of the samples, and turns scoring's error, if any, into the report
  (``check_model``).
- ``report``: the report (``CheckReport``, JSON through ``to_dict``) and each sample's top-k
  guesses, drawn from the checked logits.
"""

from evaluator import lazy_exports

__all__ = ["CHECK_VERSION", "CheckReport", "Guess", "SampleCheck", "check_model"]

__getattr__ = lazy_exports(
    __name__,
    {
        "CHECK_VERSION": "report",
        "CheckReport": "report",
        "Guess": "report",
        "SampleCheck": "report",
        "check_model": "run",
    },
)
