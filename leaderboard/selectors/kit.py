"""A challenge's starting kit: what a model receives and returns, the files a student may
download, and the code that exports and submits a model, computed once for the page.

The downloads are public by construction: the class names, the newest training set the host
imported, and an example model (a baseline entry of the challenge, ONNX as submitted or
exported once from safetensors by ``services.kit``). Nothing here names the hidden test set's
upload or its compiled files, and a training upload that is the same file as a test upload is
not offered.
"""

from __future__ import annotations

import filecmp
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.urls import NoReverseMatch, reverse

from leaderboard.evaluation.datasets import InputSpec
from leaderboard.models import (
    RANKED_MODERATION,
    Challenge,
    DatasetImport,
    Edition,
    Submission,
)

from .hosting import challenge_can_host

# The example model: this baseline first (small, fast, well above chance), then any other.
PREFERRED_ARCH = "baseline-lenet5"
EXAMPLE_FORMATS = ("onnx", "safetensors")
EXPORT_NAME = "example.onnx"  # under kit_dir(): a safetensors entry exported once
EXPORT_META = "example.json"  # {"submission": id}: which entry the export was made from
CLASSES_OPEN_UP_TO = 20  # more class names than this are listed collapsed
CHANNEL_NAMES = {1: ("grey",), 3: ("red", "green", "blue")}


@dataclass(frozen=True)
class TrainingFile:
    """The newest imported training set's upload, served as the host uploaded it."""

    row: DatasetImport
    path: Path

    @property
    def name(self) -> str:
        return self.row.original_name or self.path.name

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class ExampleModel:
    """A baseline entry offered as one ONNX file: its stored file, or the kit's export."""

    submission: Submission
    download_name: str
    exported: Path | None = None  # None: the entry's own ONNX file

    def open(self) -> IO[bytes]:
        if self.exported is not None:
            return self.exported.open("rb")
        return self.submission.file.open("rb")

    @property
    def public_top1_error(self) -> float | None:
        score = getattr(self.submission, "score", None)
        return score.public_top1_error if score is not None else None


@dataclass(frozen=True)
class Kit:
    challenge: Challenge
    ready: bool  # False until the hidden set (and so the input spec) is imported
    input_shape: str = ""
    output_shape: str = ""
    preprocessing: list[str] = field(default_factory=list)
    formulas: list[tuple[str, str]] = field(default_factory=list)  # (channel, formula)
    class_names: list[str] = field(default_factory=list)
    classes_open: bool = True
    chance_error: float | None = None
    training: TrainingFile | None = None
    example: ExampleModel | None = None
    example_note: str = ""  # why there is no example model yet
    example_name: str = ""  # the example's file name once downloaded
    # The numbers the page's code snippets are filled in with.
    spec: InputSpec | None = None
    num_classes: int = 0
    mean_list: str = ""  # "[0.485, 0.456, 0.406]"
    std_list: str = ""
    resize: int = 0  # torchvision's Resize(short side) before the centre crop
    pil_mode: str = ""  # "L" or "RGB"
    server: str = ""
    edition_path: str = ""  # CHALLENGE/EDITION of the latest open edition
    edition_open: bool = False  # False: no edition takes entries now (EDITION is a placeholder)
    submit_url: str = ""  # that edition's upload page
    data_url: str | None = None  # the hosts' "Data and imports" page, for hosts only


def challenge_kit(*, challenge: Challenge, user: AbstractBaseUser, server: str) -> Kit:
    """The panel for ``challenge`` as ``user`` sees it; ``server`` is the site's address."""
    data_url = _data_url(challenge) if challenge_can_host(challenge=challenge, user=user) else None
    if not challenge.input_spec or not challenge.class_names:
        return Kit(challenge=challenge, ready=False, data_url=data_url)
    spec = InputSpec.from_dict(challenge.input_spec)
    names = list(challenge.class_names)
    shape = f"[N, {spec.channels}, {spec.height}, {spec.width}]"
    source = kit_example_source(challenge=challenge)
    example = _example_of(challenge, source)
    edition = _latest_open_edition(challenge)
    edition_path = f"{challenge.slug}/{edition.slug}" if edition is not None else ""
    return Kit(
        challenge=challenge,
        ready=True,
        input_shape=shape,
        output_shape=f"[N, {len(names)}]",
        preprocessing=_preprocessing(spec),
        formulas=_formulas(spec),
        class_names=names,
        classes_open=len(names) <= CLASSES_OPEN_UP_TO,
        chance_error=1 - 1 / len(names),
        training=kit_training_file(challenge=challenge),
        example=example,
        example_note="" if example is not None else _example_note(source),
        example_name=_example_name(challenge),
        spec=spec,
        num_classes=len(names),
        mean_list=_numbers(spec.mean),
        std_list=_numbers(spec.std),
        resize=spec.resize_short or max(spec.height, spec.width),
        pil_mode="L" if spec.channels == 1 else "RGB",
        server=server.rstrip("/"),
        edition_path=edition_path or f"{challenge.slug}/EDITION",
        edition_open=edition is not None,
        submit_url=_submit_url(challenge, edition) if edition is not None else "",
        data_url=data_url,
    )


def class_names_text(*, challenge: Challenge) -> str:
    """classes.txt: one name a line, line i naming class index i."""
    return "".join(f"{name}\n" for name in challenge.class_names)


def kit_training_file(*, challenge: Challenge) -> TrainingFile | None:
    """The newest training set that imported (``done``), or None.

    Only rows of part ``train`` are read; the file must lie under DATA_ROOT's uploads and must
    not be a hidden test set's upload (the same file, or the same bytes under another name).
    """
    row = (
        DatasetImport.objects.filter(
            challenge=challenge, part=DatasetImport.Part.TRAIN, status=DatasetImport.Status.DONE
        )
        .order_by("-created_at")
        .first()
    )
    if row is None or not row.upload_path:
        return None
    uploads = (Path(settings.DATA_ROOT) / "uploads").resolve()
    path = (Path(settings.DATA_ROOT) / row.upload_path).resolve()
    if not path.is_relative_to(uploads) or not path.is_file():
        return None
    if any(_same_file(path, test) for test in _test_uploads(challenge)):
        return None
    return TrainingFile(row=row, path=path)


def kit_dir(*, challenge: Challenge) -> Path:
    return Path(settings.MEDIA_ROOT) / "kits" / challenge.slug


def kit_example_source(*, challenge: Challenge) -> Submission | None:
    """The baseline entry the example model comes from: not failed, not moderated away, not
    scored at or below chance; LeNet-5 first, then scored ones, then the smallest file."""
    entries = list(
        Submission.objects.filter(
            edition__challenge=challenge,
            is_baseline=True,
            format__in=EXAMPLE_FORMATS,
            moderation__in=RANKED_MODERATION,
        )
        .exclude(status=Submission.Status.FAILED)
        .select_related("score", "edition")
    )
    chance = 1 - 1 / max(1, challenge.num_classes)
    usable = [s for s in entries if not _scored_at_chance(s, chance)]
    if not usable:
        return None
    return min(
        usable,
        key=lambda s: (
            not _is_preferred(s),
            getattr(s, "score", None) is None,
            s.size_bytes,
            -s.created_at.timestamp(),
        ),
    )


def kit_example(*, challenge: Challenge) -> ExampleModel | None:
    """The example model offered now, or None (no baseline yet, or its export not made yet)."""
    return _example_of(challenge, kit_example_source(challenge=challenge))


def _example_of(challenge: Challenge, source: Submission | None) -> ExampleModel | None:
    if source is None:
        return None
    name = _example_name(challenge)
    if source.format == "onnx":
        if not source.file or not source.file.storage.exists(source.file.name):
            return None
        return ExampleModel(submission=source, download_name=name)
    exported = kit_dir(challenge=challenge) / EXPORT_NAME
    if kit_export_source_id(challenge=challenge) != str(source.pk) or not exported.is_file():
        return None
    return ExampleModel(submission=source, download_name=name, exported=exported)


def kit_export_source_id(*, challenge: Challenge) -> str | None:
    """The entry the stored export was made from (None: no export)."""
    try:
        meta = json.loads((kit_dir(challenge=challenge) / EXPORT_META).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return meta.get("submission") if isinstance(meta, dict) else None


def _example_name(challenge: Challenge) -> str:
    return f"{challenge.slug}-example.onnx"


def _example_note(source: Submission | None) -> str:
    if source is None or source.format == "onnx":  # none, or its stored file is missing
        return "No example model yet: the platform's baseline networks are not in this challenge."
    return (
        f"The example model ({source.method_name}) is not exported to ONNX yet; "
        "it will be offered here once it is."
    )


def _is_preferred(submission: Submission) -> bool:
    return submission.arch == PREFERRED_ARCH or submission.original_name.startswith(
        f"{PREFERRED_ARCH}-"
    )


def _scored_at_chance(submission: Submission, chance: float) -> bool:
    score = getattr(submission, "score", None)
    return score is not None and score.top1_error >= chance


def _test_uploads(challenge: Challenge) -> list[Path]:
    rows = DatasetImport.objects.filter(challenge=challenge, part=DatasetImport.Part.TEST)
    return [Path(settings.DATA_ROOT) / p for p in rows.values_list("upload_path", flat=True) if p]


def _same_file(path: Path, other: Path) -> bool:
    """The same file, or one of the same size and bytes (compared only when sizes match, so
    distinct files cost a stat)."""
    try:
        if path.samefile(other):
            return True
        if path.stat().st_size != other.stat().st_size:
            return False
        return filecmp.cmp(path, other, shallow=False)
    except OSError:
        return False


def _submit_url(challenge: Challenge, edition: Edition) -> str:
    return reverse("submit", kwargs={"slug": challenge.slug, "edition": edition.slug})


def _latest_open_edition(challenge: Challenge) -> Edition | None:
    open_editions = [e for e in challenge.editions.all() if e.is_open()]
    return max(open_editions, key=lambda e: (e.opens_at, e.year), default=None)


def _preprocessing(spec: InputSpec) -> list[str]:
    size = f"{spec.height} x {spec.width}"
    if spec.channels == 1:
        channels = "Colour images are converted to grey (ITU-R 601-2 luma, as PIL's 'L' mode)."
    else:
        channels = "Grey images are repeated to 3 channels; channels are in R, G, B order."
    if spec.resize_short:
        resize = (
            f"The short side is resized to {spec.resize_short} px (bilinear, antialiased), "
            f"then the centre {size} is cropped."
        )
    else:
        resize = (
            f"Images of exactly {size} are used as they are; others have their short side "
            f"resized to {max(spec.height, spec.width)} px (bilinear, antialiased), then the "
            f"centre {size} is cropped."
        )
    return [channels, resize, "Pixels are stored as 8-bit values (0..255), then normalised:"]


def _formulas(spec: InputSpec) -> list[tuple[str, str]]:
    names = CHANNEL_NAMES[spec.channels]
    return [
        (f"c = {c} ({names[c]})", f"x = (pixel/255 - {_number(m)}) / {_number(s)}")
        for c, (m, s) in enumerate(zip(spec.mean, spec.std, strict=True))
    ]


def _number(value: float) -> str:
    return repr(float(value))  # the shortest text that reads back as the same float


def _numbers(values: tuple[float, ...]) -> str:
    return "[" + ", ".join(_number(v) for v in values) + "]"


def _data_url(challenge: Challenge) -> str | None:
    try:
        return reverse("challenge_data", kwargs={"slug": challenge.slug})
    except NoReverseMatch:  # the hosts' data page is not installed
        return None
