"""Hidden test sets: import a labelled image set once, open the compiled arrays many times.

``import_dataset`` reads IDX, ImageFolder, CIFAR binary or npz sources and writes the layout of
``evaluator.layout``; ``open_dataset`` (trusted: with labels) and ``open_images`` (sandbox:
images only) read it back.
"""

from evaluator import lazy_exports
from evaluator.datasets.sources import FORMATS
from evaluator.datasets.store import CompiledDataset, open_dataset, open_images

__all__ = [
    "FORMATS",
    "CompiledDataset",
    "ImportReport",
    "import_dataset",
    "load_training_split",
    "open_dataset",
    "open_images",
]

# Importing decodes and resizes with torchvision: imported on first use, not with the package.
__getattr__ = lazy_exports(
    __name__,
    {
        "ImportReport": "importer",
        "import_dataset": "importer",
        "load_training_split": "training",
    },
)
