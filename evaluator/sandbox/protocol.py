"""What the sandboxed child and the trusted parent agree on: file names, exit codes, error codes.

The child reports through files in its output directory and its exit status; the parent reads
them as untrusted input (``outputs``: no links, no special files, size-capped, no pickle) and
turns a reported error code back into the matching exception class, for the model's own
failures only.
"""

from __future__ import annotations

from evaluator import errors

LOGITS_FILE = "logits.npy"
INFO_FILE = "info.json"
ERROR_FILE = "error.json"

# The optional insights phase (--samples DIR): the parent writes DIR, the child writes OUTDIR.
SAMPLES_FILE = "samples.npy"  # uint8 (N, C, H, W): public sample images, never the hidden set
REQUEST_FILE = "request.json"  # spec, num_classes, occlusion grid and which samples to occlude
SAMPLES_LOGITS_FILE = "samples_logits.npy"  # float32 (N, num_classes)
OCCLUSION_FILE = "occlusion.npy"  # float32 (occluded samples, positions, num_classes)
FILTERS_FILE = "filters.npy"  # float32 (out, in, kh, kw): the first convolution's weight
FILTERS_NAME_FILE = "filters.json"  # {"name": ...} of that weight

# The robustness track (--robust NAMES): one float32 (n_images, num_classes) file per transform.
ROBUST_LOGITS_PREFIX = "robust-"

EXIT_OK = 0
EXIT_REPORTED = 3  # an EvaluatorError, described in error.json
EXIT_MEMORY = 4  # MemoryError or an out-of-memory failure, described in error.json
EXIT_UNEXPECTED = 5  # any other exception, described in error.json

MAX_JSON_BYTES = 1 << 20
MAX_MESSAGE_CHARS = 4000

# Codes a child may report: the model's own failures only. A platform fault (which the site
# refunds) is never the child's to claim; anything else it writes is treated as a crash.
CHILD_ERRORS: dict[str, type[errors.EvaluatorError]] = {
    cls.code: cls
    for cls in (
        errors.UnsupportedFormat,
        errors.PickleRefused,
        errors.ModelLoadError,
        errors.ModelCheckError,
        errors.ModelMemoryError,
    )
}


def robust_logits_file(name: str) -> str:
    """The logits file of one transformed copy (``name`` from the catalogue, never the child)."""
    return f"{ROBUST_LOGITS_PREFIX}{name}.npy"


def error_from_report(report: object) -> errors.EvaluatorError | None:
    """The exception a child's error.json describes, or None if the report is malformed."""
    if not isinstance(report, dict):
        return None
    code, message = report.get("code"), report.get("message")
    if not isinstance(code, str) or not isinstance(message, str) or code not in CHILD_ERRORS:
        return None
    return CHILD_ERRORS[code](clean_text(message))


def unaccepted_report(report: dict) -> str:
    """What to say of a report whose code the child may not use (a claimed platform fault)."""
    code = report.get("code")
    if isinstance(code, str) and code:
        return (
            f"the model's process claimed {clean_text(code, limit=60)!r}, a code only the worker "
            "may decide; counted as the model's crash"
        )
    return "the model's process reported an unrecognised failure"


def clean_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Drop control characters (terminal escapes) and cap the length of child-written text."""
    kept = "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in text)
    return kept if len(kept) <= limit else kept[: limit - 3] + "..."
