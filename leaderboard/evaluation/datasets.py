"""Hidden test sets: compiled by the evaluator's importers, read back by the site.

The site never parses image files itself; every import, whether from ``manage.py``, a browser
upload or a benchmark, goes through ``import_dataset`` here.
"""

from __future__ import annotations

from pathlib import Path

from evaluator import layout
from evaluator.datasets import (
    FORMATS,
    CompiledDataset,
    ImportReport,
    import_dataset,
    load_training_split,
    open_dataset,
)
from evaluator.errors import DatasetError
from evaluator.spec import InputSpec

__all__ = [
    "FORMATS",
    "CompiledDataset",
    "DatasetError",
    "ImportReport",
    "InputSpec",
    "compiled_set_present",
    "import_dataset",
    "load_training_split",
    "open_dataset",
]


def compiled_set_present(root: Path | None) -> bool:
    """Whether ``root`` holds a finished compiled set (its metadata is written last)."""
    return root is not None and (layout.images_dir(root) / layout.META_FILE).is_file()
