"""Reading what Django's file mail backend wrote. It writes one file per connection and names
it by the second and the backend object's id, so two connections in one second may share a
file: count messages, never files."""

from __future__ import annotations

import email
import email.message
import email.policy
import time
from pathlib import Path

SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def messages_in(folder: Path) -> list[email.message.Message]:
    """Every message in every file of ``folder``, in file-name order."""
    found = []
    for path in sorted(folder.glob("*.log")) if folder.is_dir() else []:
        for raw in path.read_bytes().split(SEPARATOR):
            if raw.strip():
                found.append(email.message_from_bytes(raw, policy=email.policy.default))
    return found


def read_mail(folder: Path, *, count: int, timeout_s: float = 150) -> list[email.message.Message]:
    """The messages once there are ``count``, after a moment more so that a duplicate would
    show; fails naming how many came."""
    deadline = time.monotonic() + timeout_s
    found: list[email.message.Message] = []
    while time.monotonic() < deadline:
        found = messages_in(folder)
        if len(found) >= count:
            time.sleep(1.5)
            found = messages_in(folder)
            break
        time.sleep(0.2)
    assert len(found) == count, f"{len(found)} messages in {folder} after waiting, not {count}"
    return found
