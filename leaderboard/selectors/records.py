"""A score's reproducibility record as the submission page shows it, each figure with who
measured it: the model's process runs the participant's code, so what it says about itself
(its parameter count, its own timing) is shown as reported by the model, never as measured."""

from __future__ import annotations

from dataclasses import dataclass

REPORTED = "reported by the model"
COUNTED = "counted from the model file by the platform"
TIMED = "timed by the platform, loading included"
NAMED = "named by the platform"
NO_GROUP = "the run's whole-run memory and process caps could not be set"

# What the page and the API show, in this order (metrics are shown separately). The sources
# are rows in the API; the page says them beside the figure instead.
RECORD_KEYS = (
    "model_sha256",
    "dataset_fingerprint",
    "format",
    "arch",
    "device",
    "precision",
    "batch_size",
    "params",
    "params_source",
    "throughput_img_s",
    "throughput_source",
    "reported_throughput_img_s",
    "inference_seconds",
    "wall_seconds",
    "sandbox",
    "cgroup",
    "record_version",
)
SOURCE_KEYS = frozenset({"params_source", "throughput_source"})
UNITS = {
    "throughput_img_s": "images/s",
    "reported_throughput_img_s": "images/s",
    "inference_seconds": "s",
    "wall_seconds": "s",
}


@dataclass(frozen=True)
class RecordRow:
    key: str
    value: str  # as the page prints it: "14,136 images/s", "20.2 s", "61,000,000"
    source: str = ""  # who measured the figure, where it matters


def record_rows(*, record: dict) -> list[RecordRow]:
    """The record's rows in display order, figures formatted and labelled with their source;
    a key the run has no value for (``arch`` of a format without one) is left out."""
    return [
        RecordRow(key=key, value=_shown(key, record[key]), source=_source(key, record))
        for key in RECORD_KEYS
        if record.get(key) not in (None, "") and key not in SOURCE_KEYS
    ]


def _shown(key: str, value: object) -> str:
    """Whole numbers with thousands separators, others to three significant digits (whole
    from 100 up), with the figure's unit."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, int):
        text = f"{value:,}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    else:
        text = f"{value:.3g}" if value == 0 or abs(value) >= 0.001 else "< 0.001"
    unit = UNITS.get(key)
    return f"{text} {unit}" if unit else text


def _source(key: str, record: dict) -> str:
    if record.get(key) is None:
        return ""
    if key == "params":
        return _params_source(record)
    if key == "throughput_img_s":
        # Before ``throughput_source`` the figure was the model's own timing of its loop.
        return TIMED if record.get("throughput_source") == "parent" else REPORTED
    if key in ("reported_throughput_img_s", "inference_seconds"):
        return REPORTED
    if key == "wall_seconds":
        return TIMED
    if key == "device" and record.get("record_version", 1) >= 2 and "cgroup" in record:
        return NAMED  # records with a cgroup word name the device in the parent
    if key in ("precision", "batch_size"):
        return REPORTED
    if key == "cgroup" and str(record["cgroup"]).startswith("none"):
        return NO_GROUP
    return ""


def _params_source(record: dict) -> str:
    source = record.get("params_source")
    if source == "file":
        return COUNTED
    if source is None and record.get("format") == "safetensors":
        return COUNTED  # before ``params_source``, only safetensors headers were counted
    return REPORTED
