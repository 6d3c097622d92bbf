"""Entry point of a warm child, run inside the sandbox before its job exists.

    python -m evaluator.sandbox.warm --ready-fd N --device D

It imports what any phase needs (torch, onnxruntime, the loaders, the scoring loop), creates
the CUDA context on a GPU device, writes ``R`` to descriptor N and waits. The parent then
hands over the one job as one line on standard input: the JSON list of
``evaluator.sandbox.child``'s arguments (sandbox paths only, nothing outside the sandbox).
The child writes ``G``, closes descriptor N and standard input, runs ``child.main`` once and
exits at once, as the cold child does (``child.exit_now``). No model code runs before the
hand-over, and none can reach the descriptor the parent reads (it is closed first), so ``G``
means the platform's code took the job.

Any failure before ``G`` (an import, CUDA, a malformed line) ends the child without a job:
the parent then discards it and starts the job cold (``evaluator.sandbox.pool``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

READY = b"R"
TAKEN = b"G"
MAX_JOB_BYTES = 64 * 1024
EXIT_NO_JOB = 0  # the parent closed the pipe without a job: a discarded child


def main(argv: list[str] | None = None) -> int:
    """Warm up, wait, run the one job; returns only when no job came (exits otherwise)."""
    args = _parse(argv)
    warm_up(device=args.device)
    os.write(args.ready_fd, READY)
    job = read_job(sys.stdin.buffer.readline(MAX_JOB_BYTES))
    if job is None:
        return EXIT_NO_JOB
    os.write(args.ready_fd, TAKEN)
    os.close(args.ready_fd)
    sys.stdin.close()
    from evaluator.sandbox import child

    sys.argv = [child.__file__, *job]  # as the cold child sees its command line
    child.exit_now(child.main(job))


def warm_up(*, device: str) -> None:
    """Import what every phase imports after its hand-over, and start CUDA on a GPU."""
    import numpy  # noqa: F401
    import onnx  # noqa: F401
    import onnxruntime  # noqa: F401
    import safetensors.torch  # noqa: F401
    import torch

    import evaluator.datasets.store
    import evaluator.formats.loaders
    import evaluator.formats.onnx_check
    import evaluator.formats.onnx_io
    import evaluator.inference.loop
    import evaluator.insights.child
    import evaluator.robustness.child
    import evaluator.sandbox.child  # noqa: F401

    _first_calls()
    if device.startswith("cuda"):
        torch.cuda.init()
        torch.empty(1, device=torch.device(device))  # the context: about a second on a GPU


def _first_calls() -> None:
    """One tiny onnxruntime session run and one torch product: the libraries' one-off set-up
    (onnxruntime's environment, thread pools) happens here rather than in the job's time."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from onnx import TensorProto, helper

    x, y = (helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 4]) for n in "xy")
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "warm", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    session.run(None, {"x": np.zeros((1, 4), np.float32)})
    torch.zeros(8, 8) @ torch.zeros(8, 8)


def read_job(line: bytes) -> list[str] | None:
    """The child's arguments from the hand-over line; None for an empty or malformed one."""
    try:
        value = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return None
    return value


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evaluator.sandbox.warm")
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--device", default="cpu")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
