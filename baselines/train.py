"""The training loop: seeded, resumable, the same code on a CPU or a GPU.

Every random draw (initial weights, shuffling, augmentation, dropout) is seeded from the
recipe's seed and the epoch number, so a run resumed from a checkpoint continues exactly as
an uninterrupted one would, and two runs on the same machine give the same weights.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from baselines import checkpoint
from baselines.data import Normalise, TrainingData, augment
from baselines.recipes import Recipe
from evaluator import architectures

EVAL_BATCH = 1000
TICK_S = 30.0  # within an epoch, the progress callback's interval


@dataclass
class TrainResult:
    model: nn.Module  # on the CPU, in eval mode
    history: list[dict]  # one row per epoch: losses, accuracies, seconds
    seconds: float  # training time over all sessions of this run
    finished: bool  # False when stopped early (``stop_after``) with a checkpoint to resume

    @property
    def val_accuracy(self) -> float | None:
        return self.history[-1]["val_acc"] if self.history else None


def train(
    *,
    arch: str,
    data: TrainingData,
    recipe: Recipe,
    device: str = "cpu",
    checkpoint_path: Path | None = None,
    stop_after: int | None = None,
    progress: bool = True,
    threads: int | None = None,
    position: int | None = None,
    log: Callable[[str], None] | None = None,
    on_epoch: Callable[[float, int, float], None] | None = None,
) -> TrainResult:
    """Train ``arch`` (a registry name) on ``data``; resume from ``checkpoint_path`` if it is ours.

    ``stop_after`` ends this call after that many epochs (the checkpoint lets a later call
    go on). On CUDA the forward runs under bf16 autocast; weights stay fp32. ``threads`` caps
    the CPU threads for this run (tiny networks are faster on one: their layers are too small
    to split, and on a shared machine extra threads mostly wait for each other). ``position``
    gives the progress bar its own terminal line when several runs train side by side.
    Without a terminal, each epoch is one line to ``log`` (stderr if none), the stream its
    caller logs "training on ..." to, so the lines keep their order. ``on_epoch(done, epochs,
    seconds)`` follows the run for a board's progress notice: before the first epoch, after
    each one, and within an epoch every ``TICK_S`` seconds (``done`` then counts the part of
    the epoch done: 2.5 is halfway through the third), so a slow epoch still shows progress.
    """
    dev = torch.device(device)
    run_id = f"{arch}:{recipe.key()}:{data.fingerprint}"
    with deterministic(cuda=dev.type == "cuda"), cpu_threads(threads):
        torch.manual_seed(recipe.seed)
        model = architectures.build(
            arch, in_channels=data.spec.channels, num_classes=data.num_classes
        )
        model = model.to(dev)
        optimizer = torch.optim.SGD(
            model.parameters(),
            lr=recipe.lr,
            momentum=recipe.momentum,
            nesterov=recipe.momentum > 0,
            weight_decay=recipe.weight_decay,
        )
        state = checkpoint.RunState()
        if checkpoint_path is not None:
            state = (
                checkpoint.load(checkpoint_path, run_id=run_id, model=model, optimizer=optimizer)
                or state
            )
        data = data.to(dev)
        normalise = Normalise(data.spec, dev)
        epochs_this_call = 0
        # Bars on a terminal; through a pipe or into a log (make run), one line per epoch.
        bars = progress and sys.stderr.isatty()
        if on_epoch is not None:
            on_epoch(state.epoch, recipe.epochs, state.seconds)
        while state.epoch < recipe.epochs:
            if stop_after is not None and epochs_this_call >= stop_after:
                break
            started = time.perf_counter()
            tick = None
            if on_epoch is not None:
                tick = _ticker(on_epoch, state=state, epochs=recipe.epochs, started=started)
            row = _epoch(
                model, optimizer, data, normalise, recipe, state.epoch, dev, bars, position, tick
            )
            state.seconds += time.perf_counter() - started
            state.epoch += 1
            if progress and not bars:
                (log or _to_stderr)(
                    f"{arch}: epoch {state.epoch}/{recipe.epochs} loss {row['train_loss']:.3f} "
                    f"acc {row['train_acc']:.3f} val_acc {row['val_acc']:.4f} "
                    f"({state.seconds:.0f} s)"
                )
            state.history.append({**row, "epoch": state.epoch, "seconds": state.seconds})
            epochs_this_call += 1
            if on_epoch is not None:
                on_epoch(state.epoch, recipe.epochs, state.seconds)
            if checkpoint_path is not None:
                checkpoint.save(
                    checkpoint_path, run_id=run_id, model=model, optimizer=optimizer, state=state
                )
    return TrainResult(
        model=model.cpu().eval(),
        history=state.history,
        seconds=state.seconds,
        finished=state.epoch >= recipe.epochs,
    )


def _ticker(
    on_epoch: Callable[[float, int, float], None],
    *,
    state: checkpoint.RunState,
    epochs: int,
    started: float,
) -> Callable[[float], None]:
    """``on_epoch`` with the part of the epoch done, at most every ``TICK_S`` seconds."""
    last = [started]

    def tick(fraction: float) -> None:
        now = time.perf_counter()
        if now - last[0] >= TICK_S:
            last[0] = now
            on_epoch(state.epoch + fraction, epochs, state.seconds + now - started)

    return tick


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: TrainingData,
    normalise: Normalise,
    recipe: Recipe,
    epoch: int,
    device: torch.device,
    progress: bool,
    position: int | None = None,
    tick: Callable[[float], None] | None = None,
) -> dict:
    """One pass over the shuffled training part, then the validation accuracy."""
    seed = recipe.seed * 1_000_003 + epoch
    torch.manual_seed(seed)  # dropout
    generator = torch.Generator().manual_seed(seed)  # order and augmentation
    n = len(data.train_labels)
    steps = max(1, n // recipe.batch_size)
    order = torch.randperm(n, generator=generator)
    model.train()
    loss_sum = torch.zeros((), device=device)  # summed on the device: no sync per step
    correct_sum = torch.zeros((), dtype=torch.long, device=device)
    seen = 0
    bar = tqdm(  # updated by hand: iterating would close it before the validation figure
        total=steps,
        desc=(f"{type(model).__name__} " if position is not None else "")
        + f"epoch {epoch + 1}/{recipe.epochs}",
        disable=not progress,
        leave=position is None,
        position=position,
        unit="batch",
        dynamic_ncols=True,
    )
    for step in range(steps):
        _set_lr(optimizer, recipe=recipe, step=epoch * steps + step, steps_per_epoch=steps)
        index = order[step * recipe.batch_size : (step + 1) * recipe.batch_size].to(device)
        images = augment(
            data.train_images[index], shift=recipe.shift, hflip=recipe.hflip, generator=generator
        )
        labels = data.train_labels[index]
        with _autocast(device):
            logits = model(normalise(images))
            loss = F.cross_entropy(logits, labels, label_smoothing=recipe.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach().float() * len(labels)
        correct_sum += (logits.argmax(1) == labels).sum()
        seen += len(labels)
        bar.update()
        if tick is not None:
            tick((step + 1) / steps)
        if progress and (step % 50 == 0 or step == steps - 1):
            bar.set_postfix(
                loss=f"{float(loss_sum) / seen:.3f}", acc=f"{int(correct_sum) / seen:.3f}"
            )
    train_loss, train_acc = float(loss_sum) / seen, int(correct_sum) / seen
    val_loss, val_acc = evaluate(model, data.val_images, data.val_labels, normalise, device)
    bar.set_postfix(loss=f"{train_loss:.3f}", acc=f"{train_acc:.3f}", val_acc=f"{val_acc:.4f}")
    bar.close()
    return {
        "train_loss": train_loss,
        "train_acc": train_acc,
        "val_loss": val_loss,
        "val_acc": val_acc,
    }


def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    normalise: Normalise,
    device: torch.device,
) -> tuple[float, float]:
    """Mean cross-entropy and top-1 accuracy on a held-out part (weighted by sample count)."""
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.inference_mode(), _autocast(device):
        for start in range(0, len(labels), EVAL_BATCH):
            batch = labels[start : start + EVAL_BATCH]
            logits = model(normalise(images[start : start + EVAL_BATCH])).float()
            total_loss += float(F.cross_entropy(logits, batch, reduction="sum"))
            correct += int((logits.argmax(1) == batch).sum())
    n = max(1, len(labels))
    return total_loss / n, correct / n


def learning_rate(*, recipe: Recipe, step: int, steps_per_epoch: int) -> float:
    """Linear warm-up, then cosine decay to zero at the last step."""
    warmup = recipe.warmup_epochs * steps_per_epoch
    total = recipe.epochs * steps_per_epoch
    if step < warmup:
        return recipe.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1.0, total - warmup)
    return recipe.lr * 0.5 * (1.0 + math.cos(math.pi * progress))


def _set_lr(
    optimizer: torch.optim.Optimizer, *, recipe: Recipe, step: int, steps_per_epoch: int
) -> None:
    lr = learning_rate(recipe=recipe, step=step, steps_per_epoch=steps_per_epoch)
    for group in optimizer.param_groups:
        group["lr"] = lr


def _autocast(device: torch.device):
    return torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")


@contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op thread count set to ``threads`` for a run (None: unchanged)."""
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def deterministic(*, cuda: bool) -> Iterator[None]:
    """Deterministic kernels for the duration of a run (cheap here), then the old settings.

    cuBLAS needs its workspace fixed before first use to be deterministic (PyTorch
    "Reproducibility" notes); ops without a deterministic kernel only warn.
    """
    if cuda:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic,
    )
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = previous[2:]
