"""The sandboxed child and its trusted parent.

- ``runner``: the one launcher of the child for every phase (``launch``), and the scoring
  phase's reading of what it leaves (``run_model``);
- ``child``: the entry point run inside (``python -m evaluator.sandbox.child``) and its stages;
- ``outputs``: the one reader of what a child leaves behind; ``protocol``: file names and codes;
- ``process``, ``bwrap``, ``cgroup``: the confined process, its bubblewrap command line, the
  run's control group (memory and process caps);
- ``pool`` and ``warm``: children started ahead of their one job (a worker's warm sandboxes),
  the parent's side and the entry point run inside.
"""

from evaluator import lazy_exports

__all__ = [
    "Bind",
    "ChildJob",
    "ChildOutput",
    "Completed",
    "code_binds",
    "launch",
    "observed_failure",
    "run_model",
    "run_sandboxed",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "Bind": "bwrap",
        "ChildJob": "runner",
        "ChildOutput": "runner",
        "Completed": "process",
        "code_binds": "runner",
        "launch": "runner",
        "observed_failure": "runner",
        "run_model": "runner",
        "run_sandboxed": "process",
    },
)
