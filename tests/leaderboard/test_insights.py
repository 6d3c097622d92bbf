"""What the network sees, through the site: the task computes and stores it, the page shows it."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from django.core.files.uploadedfile import SimpleUploadedFile
from onnx import TensorProto, helper
from PIL import Image
from torch import nn

from leaderboard import services
from leaderboard.models import Submission
from leaderboard.selectors.insights import insight_samples
from leaderboard.selectors.submissions import submission_list_for_user
from leaderboard.tasks import score_submission

from .factories import make_edition, make_team, make_user, onnx_upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def conv_onnx_bytes(*, filters: int = 4, classes: int = 4) -> bytes:
    """A small convolutional classifier for 1 x 8 x 8 inputs: Conv 3x3, ReLU, average, linear."""
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(filters, 1, 3, 3)).astype(np.float32)
    dense = rng.normal(size=(filters, classes)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["input", "conv1.weight"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["c"], ["r"]),
            helper.make_node("GlobalAveragePool", ["r"], ["p"]),
            helper.make_node("Flatten", ["p"], ["f"], axis=1),
            helper.make_node("MatMul", ["f", "fc.weight"], ["logits"]),
        ],
        "conv",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        initializer=[
            onnx.numpy_helper.from_array(weight, "conv1.weight"),
            onnx.numpy_helper.from_array(dense, "fc.weight"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


class SlowOnSmallBatches(nn.Module):
    """Scores the 40-image test set in one batch, then never finishes on the few sample images."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] < 10:
            n = 0
            while n >= 0:
                n = n + 1
        return x.flatten(1)[:, :4]


def torchscript_upload(module: nn.Module) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.script(module), buffer)
    return SimpleUploadedFile("model.pt", buffer.getvalue())


@pytest.fixture
def with_samples(compiled_challenge):
    """The tiny challenge with one training-split sample image per class (4 of them)."""
    services.challenge_samples_from_training(
        challenge=compiled_challenge, fmt="npz", source=Path(compiled_challenge.train_data_path)
    )
    return make_edition(challenge=compiled_challenge)


def run_task(submission_id) -> str:
    return score_submission.apply(args=[str(submission_id)], throw=True).get()


def submit(edition, user, upload, *, method: str = "conv") -> Submission:
    submission = services.submission_create(
        edition=edition, user=user, upload=upload, method_name=method
    )
    assert run_task(submission.pk) == "scored"
    return Submission.objects.select_related("score").get(pk=submission.pk)


def test_task_stores_insights_and_the_owner_sees_every_panel(with_samples, user, client, gpu_queue):
    upload = SimpleUploadedFile("conv.onnx", conv_onnx_bytes())
    submission = submit(with_samples, user, upload)

    insights = submission.score.record["insights"]
    assert insights["errors"] == {}
    assert [s["label_name"] for s in insights["samples"]] == ["0", "1", "2", "3"]
    assert all(len(s["guesses"]) == 4 for s in insights["samples"])  # top-5 of 4 classes
    assert insights["filters"]["shape"] == [4, 1, 3, 3]
    assert insights["filters"]["name"] == "conv1.weight"
    assert len(insights["occlusion"]) == 3
    assert submission.score.top1_error == submission.score.record["top1_error"]  # untouched

    client.force_login(user)
    body = client.get(submission.get_absolute_url()).content.decode()
    for text in ("What the network sees", "Top-5 guesses", "First-layer filters"):
        assert text in body
    assert "Occlusion sensitivity" in body and "Confusion matrix" in body
    assert body.count('class="heat"') == 3
    assert insights["filters"]["png"] in body
    assert "public part of the hidden set" in body


def test_others_see_the_panels_only_where_the_page_is_visible(
    with_samples, user, client, gpu_queue
):
    submission = submit(with_samples, user, SimpleUploadedFile("conv.onnx", conv_onnx_bytes()))
    url = submission.get_absolute_url()
    assert client.get(url).status_code == 404  # anonymous
    client.force_login(make_user("eve"))
    assert client.get(url).status_code == 404  # another team
    staff = make_user("staff")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert "What the network sees" in client.get(url).content.decode()


def test_a_model_that_hangs_on_the_samples_is_still_scored(
    with_samples, user, client, settings, gpu_queue
):
    settings.INSIGHTS_TIMEOUT_S = 8
    submission = submit(with_samples, user, torchscript_upload(SlowOnSmallBatches()))

    assert submission.status == Submission.Status.SCORED
    assert submission.score.n_images == 40
    errors = submission.score.record["insights"]["errors"]
    assert "time limit of 8 s" in errors["samples"]
    client.force_login(user)
    body = client.get(submission.get_absolute_url()).content.decode()
    assert "time limit of 8 s" in body


def test_without_sample_images_nothing_is_computed(compiled_challenge, user, client, gpu_queue):
    submission = submit(make_edition(challenge=compiled_challenge), user, onnx_upload())
    assert "insights" not in submission.score.record
    client.force_login(user)
    assert (
        "Not computed for this submission"
        in client.get(submission.get_absolute_url()).content.decode()
    )


def test_insights_can_be_turned_off(with_samples, user, settings, gpu_queue):
    settings.INSIGHTS_TIMEOUT_S = 0
    assert "insights" not in submit(with_samples, user, onnx_upload()).score.record


def test_sample_batch_skips_images_of_another_size(with_samples, user):
    challenge = with_samples.challenge
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((9, 9), dtype=np.uint8)).save(buffer, format="PNG")
    services.challenge_sample_add(
        challenge=challenge, png=buffer.getvalue(), label=1, label_name="1", position=0
    )
    team = make_team(edition=with_samples, name="t", users=[user])
    submission = Submission.objects.create(
        edition=with_samples, team=team, method_name="m", file="submissions/x"
    )
    batch = insight_samples(submission_id=submission.pk, limit=8)
    assert batch is not None
    assert batch.images.shape == (4, 1, 8, 8) and batch.images.dtype == np.uint8
    assert batch.labels == [0, 1, 2, 3]
    assert insight_samples(submission_id=submission.pk, limit=2).labels == [0, 1]


def test_submission_lists_leave_the_large_records_unloaded(with_samples, user, gpu_queue):
    submit(with_samples, user, SimpleUploadedFile("conv.onnx", conv_onnx_bytes()))
    (listed,) = list(submission_list_for_user(user=user))
    assert "record" in listed.score.get_deferred_fields()
    assert listed.score.public_top1_error is not None
