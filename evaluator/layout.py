"""On-disk layout of a compiled hidden test set.

    DIR/images/images.npy   uint8 (N, C, H, W), np.save format, opened with mmap_mode="r"
    DIR/images/meta.json    n, spec, class names, fingerprint: all a model may know
    DIR/labels/labels.npy   int64 (N,)
    DIR/labels/split.npy    bool (N,), True where the image is in the public part
    DIR/labels/meta.json    public fraction, seed, import report
    DIR/images/robust/<transform>.npy   optional: the robustness track's transformed copies,
                                        uint8 (N, C, H, W) like images.npy (same labels)
    DIR/images/robust/meta.json         their transforms, parameters, digests, fingerprint

images/meta.json's format_version: 1 where every image went through the exact recipe (decode at
full size, resize, crop); 2 where some JPEGs were decoded at a reduced scale first (JPEG draft
mode, ``evaluator.datasets.decode``): the same files, pixels within a stated tolerance of
version 1's, and a fingerprint that covers the version.

Images and labels sit in sibling directories so that the sandbox binds ``images/`` alone; the
transformed copies sit under ``images/`` so that the same bind shows them, and nothing else.
"""

from __future__ import annotations

from pathlib import Path

IMAGES_DIR = "images"
IMAGES_FILE = "images.npy"
META_FILE = "meta.json"
LABELS_DIR = "labels"
LABELS_FILE = "labels.npy"
SPLIT_FILE = "split.npy"
FORMAT_VERSION = 1
DRAFT_FORMAT_VERSION = 2
FORMAT_VERSIONS = (FORMAT_VERSION, DRAFT_FORMAT_VERSION)  # what open_images reads
ROBUST_DIR = "robust"
ROBUST_FORMAT_VERSION = 1
DRAFT_FORMAT_VERSION = 2
FORMAT_VERSIONS = (FORMAT_VERSION, DRAFT_FORMAT_VERSION)  # what open_images reads


def images_dir(root: Path) -> Path:
    return Path(root) / IMAGES_DIR


def labels_dir(root: Path) -> Path:
    return Path(root) / LABELS_DIR


def robust_dir(root: Path) -> Path:
    """Where a compiled set keeps its transformed copies (``evaluator.robustness.compile``)."""
    return images_dir(root) / ROBUST_DIR
