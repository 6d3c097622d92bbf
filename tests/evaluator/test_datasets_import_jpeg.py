"""Importing JPEG trees: the same fingerprint as ever on the exact path, version 2 with drafts.

The reference is what imports wrote before torchvision's decoder and draft mode: PIL's decode
and conversion, then torchvision's evaluation transform (``Resize``, ``CenterCrop``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import v2 as transforms_v2

from evaluator import layout
from evaluator.datasets import open_dataset
from evaluator.datasets.cli import add_import_parser, run_import
from evaluator.datasets.fingerprint import fingerprint
from evaluator.errors import DatasetError
from evaluator.spec import InputSpec
from tests.evaluator.datasets_helpers import run
from tests.evaluator.test_datasets_decode import photo

IMAGENET = InputSpec(channels=3, height=224, width=224, resize_short=256)


def jpeg_tree(root: Path, *, large: bool = False) -> Path:
    """Three classes of JPEGs of every common kind, a grey and a CMYK one, a PNG and a PNG
    named .jpg; with ``large``, one 1100x1467 photo (drafted at 1/2 for ImageNet's 256)."""
    kinds = [
        {"subsampling": 2},
        {"subsampling": 1, "progressive": True},
        {"subsampling": 0, "quality": 95},
    ]
    for k, name in enumerate(["ant", "bee", "cow"]):
        folder = root / name
        folder.mkdir(parents=True)
        for i, options in enumerate(kinds):
            size = [(375, 500), (500, 333), (300, 301)][(i + k) % 3]
            photo(*size, seed=10 * k + i).save(folder / f"{i}.jpg", **options)
    photo(260, 300, seed=40).convert("L").save(root / "ant" / "grey.jpg")
    photo(260, 300, seed=41).convert("CMYK").save(root / "bee" / "cmyk.jpg")
    photo(260, 300, seed=42).save(root / "cow" / "png.jpg", format="PNG")
    photo(260, 300, seed=43).save(root / "cow" / "plain.png")
    if large:
        photo(1100, 1467, seed=44).save(root / "bee" / "large.jpg", quality=90)
    return root


def reference_images(root: Path, spec: InputSpec) -> np.ndarray:
    """The tree through PIL's decode and torchvision's Resize + CenterCrop, image by image."""
    steps = [transforms_v2.CenterCrop([spec.height, spec.width])]
    if spec.resize_short is not None:
        steps.insert(0, transforms_v2.Resize(spec.resize_short, antialias=True))
    recipe = transforms_v2.Compose(steps)
    images = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        with Image.open(path) as img:
            pixels = np.array(img.convert("L" if spec.channels == 1 else "RGB"))
        tensor = torch.from_numpy(pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1))
        images.append(recipe(tensor).numpy())
    return np.stack(images)


def reference_fingerprint(root: Path, spec: InputSpec) -> str:
    classes = sorted(p.name for p in root.iterdir())
    labels = [k for k, name in enumerate(classes) for _ in sorted((root / name).iterdir())]
    return fingerprint(
        images=reference_images(root, spec),
        labels=np.asarray(labels, dtype=np.int64),
        spec=spec,
        class_names=classes,
    )


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("channels", [3, 1])
def test_exact_path_keeps_the_fingerprint_of_pils_pipeline(
    tmp_path: Path, workers: int, channels: int
) -> None:
    root = jpeg_tree(tmp_path / "tree")
    spec = InputSpec(channels=channels, height=224, width=224, resize_short=256)
    report = run(tmp_path, root, fmt="imagefolder", spec=spec, workers=workers)
    assert (report.n_images, report.drafted, report.format_version) == (13, 0, 1)
    assert report.fingerprint == reference_fingerprint(root, spec)
    dataset = open_dataset(tmp_path / "set", verify=True)
    np.testing.assert_array_equal(dataset.images, reference_images(root, spec))
    meta = json.loads((tmp_path / "set" / "images" / "meta.json").read_text())
    assert meta["format_version"] == layout.FORMAT_VERSION == 1
    assert dataset.labels_meta["n_drafted"] == 0 and dataset.labels_meta["jpeg_draft"] is True


def test_a_draft_decoded_jpeg_makes_a_version_2_set(tmp_path: Path) -> None:
    root = jpeg_tree(tmp_path / "tree", large=True)
    exact = run(tmp_path, root, fmt="imagefolder", name="exact", spec=IMAGENET, jpeg_draft=False)
    draft = run(tmp_path, root, fmt="imagefolder", name="draft", spec=IMAGENET, workers=2)
    assert (exact.drafted, exact.format_version) == (0, 1)
    assert exact.fingerprint == reference_fingerprint(root, IMAGENET)
    assert (draft.drafted, draft.format_version) == (1, layout.DRAFT_FORMAT_VERSION)
    assert draft.fingerprint != exact.fingerprint
    assert "1 large JPEGs draft-decoded" in draft.summary() and "(format 2)" in draft.summary()
    one, two = open_dataset(tmp_path / "exact"), open_dataset(tmp_path / "draft", verify=True)
    meta = json.loads((tmp_path / "draft" / "images" / "meta.json").read_text())
    assert meta["format_version"] == 2 and two.labels_meta["n_drafted"] == 1
    differs = np.flatnonzero((one.images != two.images).any(axis=(1, 2, 3)))
    assert [one.labels[i] for i in differs] == [1]  # only the large photo, in class "bee"
    stray = np.abs(one.images[differs].astype(int) - two.images[differs].astype(int))
    assert stray.mean() < 1.0
    # The same pixels said to be version 1 fail verification: the version is in the fingerprint.
    meta["format_version"] = 1
    (tmp_path / "draft" / "images" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match="does not match its fingerprint"):
        open_dataset(tmp_path / "draft", verify=True)


def test_an_unknown_format_version_is_refused(tmp_path: Path) -> None:
    run(tmp_path, jpeg_tree(tmp_path / "tree"), fmt="imagefolder", spec=IMAGENET)
    meta_path = tmp_path / "set" / "images" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["format_version"] = 3
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match=r"format version 3, this code reads 1 and 2"):
        open_dataset(tmp_path / "set")


def test_the_command_line_exact_flag(tmp_path: Path, capsys) -> None:
    root = jpeg_tree(tmp_path / "tree", large=True)
    parser = argparse.ArgumentParser(prog="evaluator")
    add_import_parser(parser.add_subparsers(dest="command", required=True))
    common = ["import", "--format", "imagefolder", "--source", str(root), "--no-progress"]
    common += ["--size", "224", "224", "--channels", "3", "--resize-short", "256", "--json"]
    for flags, out, expected in (([], "a", (1, 2)), (["--exact"], "b", (0, 1))):
        args = parser.parse_args([*common, "--out", str(tmp_path / out), *flags])
        assert run_import(args) == 0
        report = json.loads(capsys.readouterr().out)
        assert (report["drafted"], report["format_version"]) == expected
