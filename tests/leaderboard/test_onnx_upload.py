"""An ONNX upload that can never load is refused from its header before it counts; the pages say
how a model is fed (the record's input layout) and that logits and probabilities rank the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

from evaluator.spec import InputSpec
from leaderboard import services
from leaderboard.errors import SubmissionRefused
from leaderboard.models import Submission, Team
from leaderboard.selectors.quota import quota_usage
from tests.evaluator.test_onnx_io import linear_model

from .factories import make_challenge, make_edition, make_scored, make_team

pytestmark = pytest.mark.django_db

TEN = [f"class{i}" for i in range(10)]


def _upload(path: Path, name: str = "model.onnx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, path.read_bytes(), content_type="application/octet-stream")


def _create(edition, user, upload) -> Submission:
    return services.submission_create(
        edition=edition, user=user, upload=upload, method_name="linear"
    )


def _stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.fixture
def rgb_edition(db):
    """3x6x10 images (channels, height and width all differ), ten classes, one a day."""
    spec = {"channels": 3, "height": 6, "width": 10, "mean": [0.5] * 3, "std": [0.5] * 3}
    challenge = make_challenge(slug="rgb", title="RGB", input_spec=spec, class_names=TEN)
    return make_edition(challenge=challenge, daily_limit=1)


def _sklearn_onnx(path: Path, *, zipmap: bool) -> Path:
    """A logistic regression on 64 features (the default challenge's 1x8x8) and 4 classes."""
    rng = np.random.default_rng(0)
    x = rng.random((80, 64), dtype=np.float32)
    model = LogisticRegression(max_iter=1000).fit(x, np.arange(80) % 4)
    options = None if zipmap else {"zipmap": False}
    path.write_bytes(to_onnx(model, x[:1], options=options).SerializeToString())
    return path


@pytest.mark.parametrize("case", ["both-layouts", "two-outputs", "wrong-shape"])
def test_a_model_that_can_never_load_is_refused_without_costing_a_submission(
    user, settings, tmp_path: Path, case: str
) -> None:
    if case == "both-layouts":
        spec = {"channels": 3, "height": 3, "width": 3}
        challenge = make_challenge(slug="cube", title="Cube", input_spec=spec, class_names=TEN)
        bad = linear_model(
            tmp_path / "bad.onnx", dims=["N", 3, 3, 3], spec=InputSpec.from_dict(spec)
        )
        good = linear_model(tmp_path / "good.onnx", layout="flat", spec=InputSpec.from_dict(spec))
        expected = "bad.onnx: the ONNX input 'image' is declared [N, 3, 3, 3], which reads both"
    else:
        spec = {"channels": 3, "height": 6, "width": 10}
        challenge = make_challenge(slug="rgb", title="RGB", input_spec=spec, class_names=TEN)
        good = linear_model(tmp_path / "good.onnx", layout="nhwc")
        if case == "two-outputs":
            outputs = (("head_a", "logits"), ("head_b", "probabilities"))
            bad = linear_model(tmp_path / "bad.onnx", outputs=outputs)
            expected = "2 of them could be the class scores. Keep one"
        else:
            bad = linear_model(tmp_path / "bad.onnx", dims=["N", 3, 10, 6])
            expected = "declared [N, 3, 10, 6]; for this challenge's images the scorer accepts"
    edition = make_edition(challenge=challenge, daily_limit=1)

    with pytest.raises(SubmissionRefused) as info:
        _create(edition, user, _upload(bad, "bad.onnx"))
    assert info.value.code == "unsupported_format"
    assert expected in info.value.message
    assert Submission.objects.count() == 0 and Team.objects.count() == 0
    assert _stored_files(settings) == []

    # The day's one submission is still there for a file that loads.
    submission = _create(edition, user, _upload(good))
    assert submission.format == "onnx"
    assert quota_usage(edition=edition, team_id=submission.team_id).today == 1


def test_skl2onnx_files_zipmap_refused_and_plain_probabilities_accepted(
    edition, user, settings, tmp_path: Path
) -> None:
    with pytest.raises(SubmissionRefused) as info:
        _create(edition, user, _upload(_sklearn_onnx(tmp_path / "z.onnx", zipmap=True), "z.onnx"))
    assert "z.onnx: the ONNX model's probabilities are a sequence of maps" in info.value.message
    assert "export with `options={'zipmap': False}`" in info.value.message
    assert _stored_files(settings) == []
    plain = _create(edition, user, _upload(_sklearn_onnx(tmp_path / "p.onnx", zipmap=False)))
    assert plain.format == "onnx" and Submission.objects.count() == 1


def test_channels_last_and_flat_uploads_are_accepted(rgb_edition, user, tmp_path: Path) -> None:
    rgb_edition.daily_limit = 5
    rgb_edition.save()
    for layout in ("nhwc", "flat", "nchw"):
        _create(
            rgb_edition,
            user,
            _upload(linear_model(tmp_path / f"{layout}.onnx", layout=layout), f"{layout}.onnx"),
        )
    assert Submission.objects.count() == 3
    # Said before the score: on the submission row, its page and the API, from the header.
    said = {s.original_name: s.model_io for s in Submission.objects.all()}
    assert all(said.values()), said
    assert said["nhwc.onnx"] != said["flat.onnx"] != said["nchw.onnx"]
    assert "flat" in said["flat.onnx"]


def test_a_challenge_without_its_set_yet_checks_the_format_only(user, tmp_path: Path) -> None:
    challenge = make_challenge(slug="new", title="New", input_spec={}, class_names=[])
    edition = make_edition(challenge=challenge)
    model = linear_model(tmp_path / "m.onnx", dims=["N", 3, 3, 3])
    assert _create(edition, user, _upload(model)).format == "onnx"


@pytest.mark.parametrize(
    ("layout", "words"),
    [("nhwc", "channels last"), ("flat", "flattened in C, H, W order"), ("nchw", "channels first")],
)
def test_the_submission_page_shows_the_input_layout(
    client, user, edition, layout: str, words: str
) -> None:
    team = make_team(edition=edition, name="alice", users=[user])
    scored = make_scored(
        edition=edition, team=team, top1=0.5, top5=0.25, record={"input_layout": layout}
    )
    client.force_login(user)
    body = client.get(scored.get_absolute_url()).content.decode()
    assert f'<dd data-input-layout="{layout}"><code>{layout}</code>: ' in body
    assert words in body


def test_the_submission_page_of_an_older_record_has_no_layout_line(client, user, edition) -> None:
    team = make_team(edition=edition, name="alice", users=[user])
    scored = make_scored(edition=edition, team=team, top1=0.5, top5=0.25, record={"params": 1})
    client.force_login(user)
    assert "data-input-layout" not in client.get(scored.get_absolute_url()).content.decode()


def test_the_submit_page_says_logits_and_probabilities_rank_the_same(client, user, edition):
    client.force_login(user)
    url = reverse("submit", args=[edition.challenge.slug, edition.slug])
    body = client.get(url).content.decode()
    assert "logits or probabilities: both rank the classes the same" in body
