"""Plain helpers that build rows for tests (through the services where a service exists)."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import onnx
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from onnx import TensorProto, helper

from leaderboard.models import Challenge, Edition, Membership, Score, Submission, Team


def make_user(username: str, password: str = "pw-for-tests-1"):
    return get_user_model().objects.create_user(username=username, password=password)


def make_challenge(*, slug: str = "fmnist", title: str = "Fashion", **fields) -> Challenge:
    defaults = {
        "input_spec": {"channels": 1, "height": 8, "width": 8, "mean": [0.5], "std": [0.5]},
        "class_names": ["a", "b", "c", "d"],
    }
    return Challenge.objects.create(slug=slug, title=title, **{**defaults, **fields})


def make_edition(
    *,
    challenge: Challenge,
    year: int = 2025,
    open_now: bool = True,
    daily_limit: int = 5,
    total_limit: int = 100,
    max_upload_mb: int = 5,
) -> Edition:
    now = timezone.now()
    if open_now:
        opens, closes = now - dt.timedelta(days=1), now + dt.timedelta(days=30)
    else:  # closed yesterday
        opens, closes = now - dt.timedelta(days=30), now - dt.timedelta(days=1)
    return Edition.objects.create(
        challenge=challenge,
        year=year,
        slug=str(year),
        opens_at=opens,
        closes_at=closes,
        daily_limit=daily_limit,
        total_limit=total_limit,
        max_upload_mb=max_upload_mb,
    )


def make_team(*, edition: Edition, name: str, users=()) -> Team:
    team = Team.objects.create(edition=edition, name=name)
    for user in users:
        Membership.objects.create(team=team, user=user, edition=edition)
    return team


def make_scored(
    *,
    edition: Edition,
    team: Team | None,
    top1: float,
    top5: float,
    created_at: dt.datetime | None = None,
    private: tuple[float, float] | None = None,
    baseline: bool = False,
    method: str = "m",
    record: dict | None = None,
    **fields,
) -> Submission:
    """A scored submission row written directly (the ranking tests need thousands of these).

    ``fields`` go to the submission (``method_year``, ``is_final``, ``moderation``...).
    """
    submission = Submission.objects.create(
        edition=edition,
        team=team,
        is_baseline=baseline,
        method_name=method,
        status=Submission.Status.SCORED,
        file=f"submissions/{edition.pk}/x",
        created_at=created_at or timezone.now(),
        **fields,
    )
    p1, p5 = private if private is not None else (top1, top5)
    Score.objects.create(
        submission=submission,
        top1_error=(top1 + p1) / 2,
        top5_error=(top5 + p5) / 2,
        n_images=100,
        public_top1_error=top1,
        public_top5_error=top5,
        public_n_images=50,
        private_top1_error=p1,
        private_top5_error=p5,
        private_n_images=50,
        record=record or {},
    )
    return submission


def onnx_bytes(
    *,
    channels: int = 1,
    height: int = 8,
    width: int = 8,
    classes: int = 4,
    declared: str | int | None = None,
) -> bytes:
    """A tiny valid ONNX classifier (flatten + linear), built without torch. ``declared`` is the
    class dimension its header announces when it is not ``classes`` (a name: unknown until run)."""
    features = channels * height * width
    weight = helper.make_tensor(
        "W",
        TensorProto.FLOAT,
        [features, classes],
        [0.01 * (i % 7) for i in range(features * classes)],
    )
    bias = helper.make_tensor("B", TensorProto.FLOAT, [classes], [0.0] * classes)
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["input"], ["flat"], axis=1),
            helper.make_node("Gemm", ["flat", "W", "B"], ["logits"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", channels, height, width])],
        [
            helper.make_tensor_value_info(
                "logits", TensorProto.FLOAT, ["N", classes if declared is None else declared]
            )
        ],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def onnx_upload(name: str = "model.onnx", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, onnx_bytes(**kwargs), content_type="application/octet-stream")


def pickle_upload(name: str = "model.pt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pickle.dumps({"weights": [1.0, 2.0]}))


def unknown_upload(name: str = "model.bin") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"definitely not a model file\n" * 10)


def write_file(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
