"""How long one training epoch of a baseline takes here, measured over a few steps.

    python -m baselines.epoch_time --model vgg11 --steps 3 [--threads 1] [--device cpu] [--write]

Times ``--steps`` optimisation steps (forward, backward, SGD) at the recipe's batch size on
28x28 single-channel images, after one untimed warm-up step, and extrapolates to an epoch of
the recipe's training images (Fashion-MNIST: 55,000 after the 5,000 held out). Pixels are
random: the cost of these networks does not depend on them. It is an estimate from a few
steps, printed as such, with the load average it was measured under; on a busy machine the
process's own CPU time per step says what an idle core would take better than the wall time.

``--write`` keeps each network's row in ``baselines/epoch_times.json``: the site shows it for a
network that was not trained here (no shipped weights), so a visitor reads why it is missing
and what training it would cost, measured on this code's own machine rather than guessed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from baselines import catalogue
from baselines.ship import machine_description
from evaluator import architectures

TRAIN_IMAGES = 55_000
RECORD = Path(__file__).resolve().parent / "epoch_times.json"


def measure(*, arch: str, steps: int, threads: int, device: str = "cpu") -> dict:
    """Seconds per step over ``steps`` timed steps, and the epoch they extrapolate to."""
    baseline = catalogue.get(arch)
    recipe = baseline.recipe
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = architectures.build(baseline.arch, in_channels=1, num_classes=10).to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum)
    images = torch.randn(recipe.batch_size, 1, 28, 28, device=device)
    labels = torch.randint(0, 10, (recipe.batch_size,), device=device)

    def step() -> None:
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()  # warm-up: allocations, kernel choices
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    per_step = (time.perf_counter() - started) / steps
    cpu_per_step = (time.process_time() - cpu_started) / steps
    steps_per_epoch = TRAIN_IMAGES // recipe.batch_size
    return {
        "arch": baseline.arch,
        "batch_size": recipe.batch_size,
        "timed_steps": steps,
        "seconds_per_step": round(per_step, 2),
        "cpu_seconds_per_step": round(cpu_per_step, 2),
        "steps_per_epoch": steps_per_epoch,
        "estimated_seconds_per_epoch": round(per_step * steps_per_epoch),
        # On a CPU: the process's own CPU time, what an idle core would take (about).
        "estimated_cpu_seconds_per_epoch": round(cpu_per_step * steps_per_epoch),
        "recipe_epochs": recipe.epochs,
        "estimated_cpu_hours_for_recipe": round(
            cpu_per_step * steps_per_epoch * recipe.epochs / 3600, 1
        ),
        "threads": threads,
        "device": device,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }


def recorded(arch: str, *, path: Path = RECORD) -> dict | None:
    """The row ``--write`` kept for ``arch`` (a registry name), or None."""
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    row = rows.get(arch) if isinstance(rows, dict) else None
    return row if isinstance(row, dict) else None


def record(row: dict, *, path: Path = RECORD) -> None:
    """Keep ``row`` (from ``measure``) as its network's entry, with the machine and the date."""
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        rows = {}
    rows[row["arch"]] = {
        **row,
        "machine": machine_description(),
        "measured_on": dt.date.today().isoformat(),
    }
    text = json.dumps(dict(sorted(rows.items())), indent=2) + "\n"
    Path(path).write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m baselines.epoch_time", description=__doc__)
    parser.add_argument("--model", action="append", required=True, help="e.g. vgg11 (repeat)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--write", action="store_true", help=f"keep the rows in {RECORD.name}")
    args = parser.parse_args(argv)
    for name in args.model:
        row = measure(arch=name, steps=args.steps, threads=args.threads, device=args.device)
        print(json.dumps(row), flush=True)
        if args.write:
            record(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
