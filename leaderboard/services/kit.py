"""The example model of a challenge's starting kit, made downloadable once.

The example is a baseline entry (``selectors.kit.kit_example_source``: LeNet-5 first). An ONNX
entry is offered as it was submitted, so nothing is written; a safetensors entry is exported
to ONNX here, once, under ``MEDIA_ROOT/kits/<slug>/``, by the evaluator's own registry
(``leaderboard.evaluation.export``). Called from management commands (``create_demo``), never
from a web request: the export imports torch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from leaderboard.evaluation.datasets import InputSpec
from leaderboard.evaluation.export import onnx_from_safetensors
from leaderboard.models import Challenge, Submission
from leaderboard.selectors.kit import (
    EXPORT_META,
    EXPORT_NAME,
    kit_dir,
    kit_example_source,
    kit_export_source_id,
)


@dataclass(frozen=True)
class KitExample:
    state: str  # "none" (no baseline entry), "as_submitted", "exported", "kept"
    submission: Submission | None
    message: str


def kit_example_prepare(*, challenge: Challenge) -> KitExample:
    """Make sure the kit offers its example model; says what it found or did."""
    source = kit_example_source(challenge=challenge)
    if source is None:
        return KitExample(
            state="none",
            submission=None,
            message=f"{challenge.slug}: no baseline entry yet, so no example model "
            "(seed_baselines adds them; the page says so meanwhile)",
        )
    if source.format == "onnx":
        return KitExample(
            state="as_submitted",
            submission=source,
            message=f"{challenge.slug}: example model {source.method_name}, its ONNX entry",
        )
    target = kit_dir(challenge=challenge) / EXPORT_NAME
    meta = target.with_name(EXPORT_META)
    if kit_export_source_id(challenge=challenge) == str(source.pk) and target.is_file():
        return KitExample(
            state="kept",
            submission=source,
            message=f"{challenge.slug}: example model {source.method_name}, exported before",
        )
    meta.unlink(missing_ok=True)  # until the new file is in, no entry claims the old one
    difference = onnx_from_safetensors(
        weights=Path(source.file.path),
        arch=source.arch,
        spec=InputSpec.from_dict(challenge.input_spec),
        num_classes=challenge.num_classes,
        target=target,
    )
    _write_meta(
        meta,
        {
            "submission": str(source.pk),
            "method_name": source.method_name,
            "arch": source.arch,
            "max_abs_difference": difference,
            "exported_at": timezone.now().isoformat(),
        },
    )
    return KitExample(
        state="exported",
        submission=source,
        message=f"{challenge.slug}: example model {source.method_name} exported to ONNX "
        f"({target}; largest logit difference {difference:.1e})",
    )


def _write_meta(path: Path, meta: dict) -> None:
    """Written last, so the page never offers a file exported from another entry."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
