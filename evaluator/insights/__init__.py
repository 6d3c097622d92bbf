"""What the network sees: the ImageNet era's figures for one submitted model.

- ``compute``: the trusted parent: runs the model in the sandbox on public sample images and
  keeps whatever it finished (``compute_insights``).
- ``child``: the child's stage: the loaded model on the samples, their occluded copies and its
  first convolution's weights.
- ``panels``: top-k guesses, heat maps and the filter grid drawn from the checked arrays.
- ``filters``, ``occlusion``, ``render``: the first convolution, the occlusion grid, PNG/JPEG.
"""

from evaluator import lazy_exports

__all__ = ["INSIGHTS_VERSION", "MAX_SAMPLES", "compute_insights", "top_k"]

__getattr__ = lazy_exports(
    __name__,
    {
        "INSIGHTS_VERSION": "compute",
        "MAX_SAMPLES": "compute",
        "compute_insights": "compute",
        "top_k": "panels",
    },
)
