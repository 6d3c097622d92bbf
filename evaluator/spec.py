"""The input a challenge declares: what every submitted model receives."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _default_stats(channels: int, rgb: tuple[float, ...], grey: float) -> tuple[float, ...]:
    return rgb if channels == 3 else (grey,)


@dataclass(frozen=True)
class InputSpec:
    """Channels, size and normalisation of the tensors a model is fed.

    Images are stored as uint8 at exactly this size; ``mean``/``std`` (in the 0..1 scale) are
    applied on the scoring device, so the stored set never changes when a host retunes them.
    ``resize_short`` is the ImageNet recipe's first step (resize the short side, then centre-crop
    to height x width); ``None`` resizes the short side to max(height, width) only when needed.
    """

    channels: int
    height: int
    width: int
    mean: tuple[float, ...] = field(default=())
    std: tuple[float, ...] = field(default=())
    resize_short: int | None = None

    def __post_init__(self) -> None:
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if self.height < 1 or self.width < 1:
            raise ValueError(f"height and width must be positive, got {self.height}x{self.width}")
        if not self.mean:
            object.__setattr__(self, "mean", _default_stats(self.channels, IMAGENET_MEAN, 0.5))
        if not self.std:
            object.__setattr__(self, "std", _default_stats(self.channels, IMAGENET_STD, 0.5))
        object.__setattr__(self, "mean", tuple(float(m) for m in self.mean))
        object.__setattr__(self, "std", tuple(float(s) for s in self.std))
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise ValueError(f"mean and std need {self.channels} values each")
        if any(s <= 0 for s in self.std):
            raise ValueError("std values must be positive")
        if self.resize_short is not None and self.resize_short < min(self.height, self.width):
            raise ValueError("resize_short must be at least the crop's shorter side")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> InputSpec:
        return cls(
            channels=int(d["channels"]),
            height=int(d["height"]),
            width=int(d["width"]),
            mean=tuple(d.get("mean") or ()),
            std=tuple(d.get("std") or ()),
            resize_short=d.get("resize_short"),
        )
