"""The README's table of the shipped weights, from their records alone (``python -m baselines
shipped``): what each file is, how it was trained and what the scorer measured on it, and the
files' total size. Written from the records so that a newly shipped network (ResNet-20 after
its hour of CPU) enters the README without anyone copying numbers by hand."""

from __future__ import annotations

from baselines import catalogue
from baselines.shipped import Shipped

HEAD = (
    "| network | file | dtype | size | SHA-256 | epochs, seed | training (wall) "
    "| validation error (scorer) | test error, all {images} (95% interval) |"
)


def shipped_markdown(weights: list[Shipped]) -> list[str]:
    """The table's lines, by paper year then depth, and the total size line after it."""
    ordered = sorted(weights, key=_order)
    images = {(w.record.get("test") or {}).get("images") for w in ordered} - {None}
    count = f"{images.pop():,}" if len(images) == 1 else "the hidden set"
    lines = [HEAD.format(images=count), "|---" * 9 + "|"]
    lines += [_line(w) for w in ordered]
    total = sum(int(w.record["bytes"]) for w in ordered)
    files = "one file" if len(ordered) == 1 else f"{len(ordered)} files"
    return [*lines, "", f"Total size: {_kb(total)} ({files})."]


def _order(weights: Shipped) -> tuple:
    network = catalogue.get(weights.arch)
    return (network.year, network.depth, network.arch)


def _line(weights: Shipped) -> str:
    record = weights.record
    network = catalogue.get(weights.arch)
    training = record.get("training") or {}
    test = record.get("test") or {}
    low, high = test.get("ci95_top1_error") or (None, None)
    interval = f" ({_pct(low)} to {_pct(high)})" if low is not None else ""
    tested = f"{_pct(test['top1_error'])}{interval}" if "top1_error" in test else "not recorded"
    return (
        f"| {network.method_name} ({network.year}) | `{record['file']}` | {record['dtype']} | "
        f"{_kb(int(record['bytes']))} | `{record['sha256'][:12]}…` | "
        f"{record['epochs']}, {record['seed']} | "
        f"{training.get('wall_seconds', 0):.0f} s, {training.get('device', '?')} "
        f"({_cpu(training.get('machine') or '?')}) | "
        f"{_pct(record['validation']['top1_error'])} | "
        f"{tested} |"
    )


def _cpu(machine: str) -> str:
    """The CPU model of a record's machine ("AMD EPYC, 2 cores, Linux ..." -> "AMD EPYC")."""
    return machine.split(",")[0]


def _kb(size: int) -> str:
    return f"{size / 1000:,.0f} kB"


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"
