"""Channels-last, flat and several-output ONNX models through ``evaluator.scoring.score``: the
same errors as their channels-first twins, the layout in the record (decided by the parent from
the header), and refusals that say what to change instead of a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluator.errors import UnsupportedFormat
from evaluator.scoring import score
from evaluator.spec import InputSpec
from tests.evaluator.conftest import write_compiled_dataset
from tests.evaluator.test_onnx_io import linear_model

pytestmark = pytest.mark.timeout(300)

METRICS = ("top1_error", "top5_error", "top1_correct", "top5_correct", "n_images", "public")


@pytest.fixture(scope="module")
def rgb_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """96 random 3x6x10 images (channels, height and width all differ), 10 classes."""
    root = tmp_path_factory.mktemp("rgb")
    return write_compiled_dataset(root / "set", n=96, channels=3, height=6, width=10)


@pytest.fixture(scope="module")
def channels_first(rgb_set: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = linear_model(tmp_path_factory.mktemp("twin") / "nchw.onnx")
    return score(dataset_dir=rgb_set, model_path=path, batch_size=32)


@pytest.mark.parametrize("layout", ["nhwc", "flat"])
def test_scores_exactly_as_its_channels_first_twin(
    rgb_set: Path, channels_first: dict, tmp_path: Path, layout: str
) -> None:
    result = score(
        dataset_dir=rgb_set,
        model_path=linear_model(tmp_path / "m.onnx", layout=layout),
        batch_size=32,
    )
    assert {k: result[k] for k in METRICS} == {k: channels_first[k] for k in METRICS}
    assert channels_first["top1_error"] < 0.95  # not all wrong: the comparison means something
    assert (result["input_layout"], channels_first["input_layout"]) == (layout, "nchw")
    assert result["format"] == "onnx"


def test_probabilities_beside_a_label_score_as_the_logits(
    rgb_set: Path, channels_first: dict, tmp_path: Path
) -> None:
    outputs = (("label", "label"), ("probabilities", "probabilities"))
    path = linear_model(tmp_path / "m.onnx", layout="flat", outputs=outputs)
    result = score(dataset_dir=rgb_set, model_path=path, batch_size=32)
    for key in ("top1_error", "top5_error"):
        assert result[key] == channels_first[key]


@pytest.mark.parametrize("case", ["both-layouts", "two-outputs"])
def test_an_ambiguous_model_gets_the_message_not_a_crash(tmp_path: Path, case: str) -> None:
    if case == "both-layouts":  # 3x3x3 images: [N, 3, 3, 3] reads channels first and last
        dataset = write_compiled_dataset(tmp_path / "cube", n=16, channels=3, height=3, width=3)
        path = linear_model(
            tmp_path / "m.onnx", dims=["N", 3, 3, 3], spec=InputSpec(channels=3, height=3, width=3)
        )
        expected = "reads both as channels first [N, 3, 3, 3] and as channels last"
    else:
        dataset = write_compiled_dataset(tmp_path / "rgb", n=16, channels=3, height=6, width=10)
        outputs = (("head_a", "logits"), ("head_b", "probabilities"))
        path = linear_model(tmp_path / "m.onnx", outputs=outputs)
        expected = "2 of them could be the class scores. Keep one"
    with pytest.raises(UnsupportedFormat) as info:
        score(dataset_dir=dataset, model_path=path)
    assert info.value.code == "unsupported_format"
    assert expected in info.value.message
