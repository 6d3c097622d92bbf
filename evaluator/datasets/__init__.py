"""Hidden test sets: import a labelled image set once, open the compiled arrays many times.

``import_dataset`` reads IDX, ImageFolder, CIFAR binary or npz sources and writes the layout of
``evaluator.layout``; ``open_dataset`` (trusted: with labels) and ``open_images`` (sandbox:
images only) read it back. ``detect_upload`` tells which format and source a host's upload is
(unpacking a zip or tar with ``unpack_archive``, which refuses unsafe or oversized archives).
"""

from evaluator import lazy_exports
from evaluator.datasets.sources import FORMATS
from evaluator.datasets.store import CompiledDataset, open_dataset, open_images

__all__ = [
    "FORMATS",
    "ArchiveError",
    "CompiledDataset",
    "ImportReport",
    "Unpacked",
    "UploadSource",
    "detect_upload",
    "import_dataset",
    "load_training_split",
    "open_dataset",
    "open_images",
    "unpack_archive",
]

# Importing decodes and resizes with torchvision: imported on first use, not with the package.
__getattr__ = lazy_exports(
    __name__,
    {
        "ArchiveError": "archive",
        "Unpacked": "archive",
        "unpack_archive": "archive",
        "UploadSource": "uploads",
        "detect_upload": "uploads",
        "ImportReport": "importer",
        "import_dataset": "importer",
        "load_training_split": "training",
    },
)
