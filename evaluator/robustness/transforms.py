"""The robustness track's catalogue: deterministic changes of rotation, scale and lighting.

A convolutional network tolerates translation by construction (shared weights, pooling); it has
no built-in notion of rotation, scale or lighting. The robustness track measures what a model
learnt about them on the challenge's own hidden set: each transform below maps uint8
(B, C, H, W) images to uint8 images of the same shape (``ops``, with torchvision's v2
functional ops), so that the transformed copies are compiled once beside the set and scored
like it. This module is data only: the web process reads the catalogue without torch.

In the spirit of ImageNet-C (D. Hendrycks & T. Dietterich, "Benchmarking Neural Network
Robustness to Common Corruptions and Perturbations", ICLR 2019), the summary number is the mean
top-1 error over the corruptions. Unlike ImageNet-C's mCE it is not normalised by AlexNet's
errors: it is a plain mean. The horizontal flip is a control, left out of the mean: most classes
keep their meaning in a mirror, so a large error there points at the model, not at the flip.

Parameters are in pixels and grey levels of the compiled input (after the import's resize and
crop), so they mean the same for every model of a challenge. Geometric transforms keep the size:
what leaves the frame is cut, and what enters from outside the image is black (0).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

ROTATION, SCALE, LIGHTING, BLUR, NOISE, CONTROL = (
    "rotation",
    "scale",
    "lighting",
    "blur",
    "noise",
    "control",
)
# Noise is drawn per image from its own generator, seeded from (strength, image index), so an
# image's noise never depends on batch size, chunking, sharding or the order of work.
TIMES, SIGMA = "\u00d7", "\u03c3"  # for the labels shown on the site


@dataclass(frozen=True)
class Transform:
    """One transform of the catalogue: its stable name, how it is shown, and its parameters."""

    name: str  # file name and key in every record: lowercase letters, digits, underscores
    label: str
    group: str  # what is shown together: rotation, scale, lighting, blur, noise, control
    op: str  # which function applies it, with ``params`` as its keyword arguments
    description: str
    params: dict = field(default_factory=dict)
    control: bool = False  # excluded from the summary (the flip)

    def to_dict(self) -> dict:
        return asdict(self)


TRANSFORMS: tuple[Transform, ...] = (
    Transform(
        "rotate_15",
        "Rotation 15°",
        ROTATION,
        "rotate",
        "rotated 15° counter-clockwise about the centre, bilinear; corners from outside black",
        {"degrees": 15},
    ),
    Transform(
        "rotate_45",
        "Rotation 45°",
        ROTATION,
        "rotate",
        "rotated 45° counter-clockwise about the centre, bilinear; corners from outside black",
        {"degrees": 45},
    ),
    Transform(
        "rotate_90",
        "Rotation 90°",
        ROTATION,
        "rotate",
        "rotated 90° counter-clockwise (exact on square images)",
        {"degrees": 90},
    ),
    Transform(
        "scale_half",
        f"Scale {TIMES}0.5",
        SCALE,
        "scale",
        "shrunk to half the height and width (antialiased bilinear), centred on black",
        {"factor": 0.5},
    ),
    Transform(
        "scale_double",
        f"Scale {TIMES}2",
        SCALE,
        "scale",
        "enlarged to twice the height and width (bilinear), centre crop of the input size",
        {"factor": 2.0},
    ),
    Transform(
        "brighter",
        f"Brightness {TIMES}1.5",
        LIGHTING,
        "brightness",
        "every value multiplied by 1.5, clipped at 255 (torchvision adjust_brightness)",
        {"factor": 1.5},
    ),
    Transform(
        "darker",
        f"Brightness {TIMES}0.5",
        LIGHTING,
        "brightness",
        "every value multiplied by 0.5 (torchvision adjust_brightness)",
        {"factor": 0.5},
    ),
    Transform(
        "low_contrast",
        f"Contrast {TIMES}0.5",
        LIGHTING,
        "contrast",
        "halfway to the image's mean grey level (torchvision adjust_contrast)",
        {"factor": 0.5},
    ),
    Transform(
        "blur_1",
        f"Gaussian blur {SIGMA}=1",
        BLUR,
        "blur",
        "Gaussian blur, sigma 1 px, 7x7 kernel, reflected edges (ImageNet-C severity 1)",
        {"sigma": 1.0},
    ),
    Transform(
        "blur_2",
        f"Gaussian blur {SIGMA}=2",
        BLUR,
        "blur",
        "Gaussian blur, sigma 2 px, 13x13 kernel, reflected edges (ImageNet-C severity 2)",
        {"sigma": 2.0},
    ),
    Transform(
        "noise_low",
        f"Gaussian noise {SIGMA}=0.08",
        NOISE,
        "noise",
        "additive Gaussian noise, sigma 0.08 of the range (20 grey levels), seeded per image "
        "(ImageNet-C severity 1)",
        {"sigma": 0.08, "seed": 1},
    ),
    Transform(
        "noise_high",
        f"Gaussian noise {SIGMA}=0.18",
        NOISE,
        "noise",
        "additive Gaussian noise, sigma 0.18 of the range (46 grey levels), seeded per image "
        "(ImageNet-C severity 3)",
        {"sigma": 0.18, "seed": 2},
    ),
    Transform(
        "hflip",
        "Horizontal flip (control)",
        CONTROL,
        "hflip",
        "mirrored left to right; a control, not part of the summary",
        {},
        control=True,
    ),
)
BY_NAME: dict[str, Transform] = {t.name: t for t in TRANSFORMS}
NAMES: tuple[str, ...] = tuple(BY_NAME)
CORRUPTIONS: tuple[str, ...] = tuple(t.name for t in TRANSFORMS if not t.control)


def get(name: str) -> Transform:
    """The catalogue entry, or ValueError naming the known transforms."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown transform {name!r}; known: {', '.join(NAMES)}") from None


def catalogue(names: tuple[str, ...] = NAMES) -> list[dict]:
    """The transforms as plain dicts, for records and metadata."""
    return [get(name).to_dict() for name in names]
