"""Celery's filesystem queue (``make run``'s embedded broker) with messages that appear whole.

kombu's filesystem transport creates a message file, then locks and writes it; a consumer that
lists the folder in between moves the empty file away and fails on ``json.loads``, and the
worker stops with "Unrecoverable error". A worker with the beat inside it publishes and
consumes in one process, so on a busy machine this happened within minutes. Here a message is
written under a name no consumer takes and renamed into place: a rename inside one folder is
atomic, so a listed message is always complete.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs) -> None:
        """Write ``payload`` to a hidden file, then rename it to the name consumers look for."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot: a consumer matches names on "<queue>.msg" after the first dot, which
        # this name never has.
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb", buffering=0) as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
