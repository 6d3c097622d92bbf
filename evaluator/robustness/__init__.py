"""The robustness track: transformed copies of a hidden set, scored in the same sandboxed run.

- ``transforms``: the catalogue (names, labels, parameters); data only, no torch.
- ``ops``: the transforms themselves on uint8 images (torch).
- ``compile``: the copies written once beside a compiled set, atomically.
- ``child``: the child's stage: the loaded model on each copy, after the clean set.
- ``scoring``: the parent's stage of the scoring pipeline, and ``score_robust``.
- ``metrics``, ``report``: the report from each copy's logits, and its text table.
"""

from evaluator import lazy_exports
from evaluator.robustness.transforms import (
    BY_NAME,
    CORRUPTIONS,
    NAMES,
    TRANSFORMS,
    Transform,
    catalogue,
    get,
)

__all__ = [
    "BY_NAME",
    "CORRUPTIONS",
    "NAMES",
    "TRANSFORMS",
    "RobustSets",
    "Transform",
    "apply",
    "apply_numpy",
    "blur_kernel_size",
    "catalogue",
    "compile_robust_sets",
    "ensure_robust_sets",
    "get",
    "open_robust_images",
    "read_robust_sets",
    "robustness_report",
    "score_robust",
    "summary_lines",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "apply": "ops",
        "apply_numpy": "ops",
        "blur_kernel_size": "ops",
        "RobustSets": "compile",
        "compile_robust_sets": "compile",
        "ensure_robust_sets": "compile",
        "open_robust_images": "compile",
        "read_robust_sets": "compile",
        "robustness_report": "metrics",
        "summary_lines": "report",
        "score_robust": "scoring",
    },
)
