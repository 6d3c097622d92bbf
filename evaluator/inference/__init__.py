"""The scoring loop run inside the sandbox: uint8 batches in, checked float32 logits out.

- ``loop``: ``run_inference`` (probing the batch size, CPU and CUDA loops, the checks).
- ``staging``: the GPU's reader threads, pinned ring and side-stream copies.
"""

from evaluator import lazy_exports

__all__ = ["PRECISIONS", "InferenceResult", "effective_precision", "run_inference"]

__getattr__ = lazy_exports(
    __name__,
    {
        "PRECISIONS": "loop",
        "InferenceResult": "loop",
        "effective_precision": "loop",
        "run_inference": "loop",
    },
)
