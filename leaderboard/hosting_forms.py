"""The new-challenge form: what the models receive, how the board ranks, and the sets' files.

Validation only. The services create the rows and queue the imports; the files themselves are
checked by the evaluator's importers on a worker, never in the request.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.text import slugify

from leaderboard.classroom_forms import LocalDateTimeInput
from leaderboard.metrics import Metric
from leaderboard.models import Challenge

AUTO_METRIC = "auto"  # decided from the number of classes once the test set is imported

# One click fills the input fields (the JavaScript on the page reads these).
PRESETS = {
    "imagenet": {
        "label": "ImageNet (3x224x224, resize 256)",
        "channels": 3,
        "height": 224,
        "width": 224,
        "resize_short": 256,
        "mean": "0.485, 0.456, 0.406",
        "std": "0.229, 0.224, 0.225",
    },
    "mnist": {
        "label": "MNIST (1x28x28)",
        "channels": 1,
        "height": 28,
        "width": 28,
        "resize_short": "",
        "mean": "0.1307",
        "std": "0.3081",
    },
}


def _floats(text: str, *, channels: int, name: str) -> tuple[float, ...]:
    if not text.strip():
        return ()
    try:
        values = tuple(float(part) for part in text.replace(";", ",").split(","))
    except ValueError:
        message = f"{name}: numbers separated by commas, e.g. 0.5, 0.5, 0.5"
        raise forms.ValidationError(message) from None
    if len(values) not in (1, channels):
        raise forms.ValidationError(f"{name}: one value, or one per channel ({channels}).")
    if name == "std" and any(v <= 0 for v in values):
        raise forms.ValidationError("std: every value must be above 0.")
    return values * channels if len(values) == 1 else values


class ChallengeCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=50,
        help_text="In the address: /c/<slug>/. Letters, digits and hyphens.",
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="Markdown: **bold**, lists, links, tables.",
    )
    channels = forms.TypedChoiceField(
        choices=[(1, "1 (greyscale)"), (3, "3 (RGB)")], coerce=int, initial=3
    )
    height = forms.IntegerField(validators=[MinValueValidator(8), MaxValueValidator(1024)])
    width = forms.IntegerField(validators=[MinValueValidator(8), MaxValueValidator(1024)])
    resize_short = forms.IntegerField(
        required=False,
        validators=[MinValueValidator(8), MaxValueValidator(2048)],
        label="Resize the short side to",
        help_text="Then a centre crop of height x width. Empty: resize straight to that size.",
    )
    mean = forms.CharField(required=False, help_text="Per channel, e.g. 0.485, 0.456, 0.406")
    std = forms.CharField(required=False, help_text="Per channel, e.g. 0.229, 0.224, 0.225")
    public_fraction = forms.FloatField(
        initial=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="The share of the hidden set ranked on the public board while it is open.",
    )
    seed = forms.IntegerField(initial=0, help_text="Fixes which images are public.")
    primary_metric = forms.ChoiceField(
        choices=[
            (AUTO_METRIC, "Automatic: top-1 below 20 classes, top-5 from 20"),
            *Metric.choices,
        ],
        initial=AUTO_METRIC,
        label="Ranked by",
        help_text="Top-5 error says little with 10 classes; ILSVRC's 1,000 made it the measure.",
    )
    robustness = forms.BooleanField(
        required=False, label="Robustness track (also score transformed copies)"
    )
    year = forms.IntegerField(validators=[MinValueValidator(1990), MaxValueValidator(2200)])
    closes_at = forms.DateTimeField(widget=LocalDateTimeInput(), label="Closes")
    class_names = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Optional, one per line in label order. Class folders name themselves.",
    )
    test_set = forms.FileField(
        label="Hidden test set",
        help_text="A zip or tar of class folders, an .npz, IDX files, or CIFAR binaries.",
    )
    train_set = forms.FileField(
        required=False,
        label="Training set (optional)",
        help_text="Same formats. Offered to participants as a download; samples come from it.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        now = timezone.now()
        self.fields["year"].initial = now.year
        self.fields["closes_at"].initial = (now + dt.timedelta(weeks=10)).replace(
            minute=0, second=0, microsecond=0
        )

    def clean_slug(self) -> str:
        slug = slugify(self.cleaned_data["slug"])
        if Challenge.objects.filter(slug=slug).exists():
            raise forms.ValidationError(f"A challenge called {slug!r} exists already.")
        return slug

    def clean_closes_at(self) -> dt.datetime:
        closes = self.cleaned_data["closes_at"]
        if closes <= timezone.now():
            raise forms.ValidationError("The closing time must be in the future.")
        return closes

    def clean(self) -> dict:
        data = super().clean()
        channels = data.get("channels")
        if channels:
            for name in ("mean", "std"):
                try:
                    data[name] = _floats(data.get(name) or "", channels=channels, name=name)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        if bool(data.get("mean")) != bool(data.get("std")) and not self.errors:
            self.add_error("std", "Give both mean and std, or neither.")
        names = [n.strip() for n in (data.get("class_names") or "").splitlines() if n.strip()]
        data["class_names"] = names
        return data


class DatasetUploadForm(forms.Form):
    part = forms.ChoiceField(choices=[("test", "Hidden test set"), ("train", "Training set")])
    file = forms.FileField()
