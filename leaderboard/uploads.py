"""Streaming model uploads to disk with a hard size cap.

The cap is checked against the declared Content-Length before a byte of the file is read, and
again against the bytes actually received, chunk by chunk. Past the cap the upload stops at once
(StopUpload) and Django closes the temporary file, which deletes it: no partial file is left.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest

# Room for the form's other fields and the multipart boundaries around the file.
FORM_OVERHEAD = 64 * 1024


class CappedUploadHandler(TemporaryFileUploadHandler):
    """TemporaryFileUploadHandler that refuses files larger than ``max_bytes``."""

    def __init__(self, request: HttpRequest | None = None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.exceeded = False
        self.received = 0
        self.content_length: int | None = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.content_length = content_length
        return None  # parse as usual

    def new_file(self, *args, **kwargs) -> None:
        if self.content_length and self.content_length > self.max_bytes + FORM_OVERHEAD:
            self._stop()
        self.received = 0
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self._stop()
        return super().receive_data_chunk(raw_data, start)

    def _stop(self) -> None:
        """Abort; drain the rest of a small request so the browser can read our answer."""
        self.exceeded = True
        left = (self.content_length or 0) - self.received
        raise StopUpload(connection_reset=left > settings.UPLOAD_DRAIN_MAX_BYTES)
