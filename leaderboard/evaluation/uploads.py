"""An uploaded set (a file, or an archive unpacked within caps) recognised by the evaluator."""

from evaluator.datasets.uploads import ACCEPTED, UploadSource, detect_upload

__all__ = ["ACCEPTED", "UploadSource", "detect_upload"]
