"""Where the baselines' training stands, for the board: one small JSON file per edition.

The seeding command (the only writer) updates it during each epoch; the web process reads it
to say which network trains, at which epoch, and how long is left. A file under VAR_DIR works
on SQLite and PostgreSQL alike and needs no cache shared between processes. It is removed when
the command ends; one not updated for ``STALE_AFTER_S`` (a killed command) is ignored.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

STALE_AFTER_S = 600.0


@dataclass(frozen=True)
class NetworkProgress:
    """One network in training: ``done`` epochs of ``epochs`` (a fraction within an epoch)
    after ``seconds`` of training."""

    arch: str
    method_name: str
    done: float
    epochs: int
    seconds: float
    updated_at: dt.datetime

    @property
    def current(self) -> int:
        """The epoch in progress (1-based), the last one once all are done."""
        return min(int(self.done) + 1, self.epochs)

    @property
    def seconds_left(self) -> float | None:
        """From the time per epoch so far; None until a tenth of an epoch is done."""
        if self.done < 0.1:
            return None
        return max(0.0, (self.epochs - self.done) * self.seconds / self.done)


def progress_path(*, edition_id: int) -> Path:
    return Path(settings.VAR_DIR) / "baselines" / "progress" / f"edition-{edition_id}.json"


def progress_update(
    *,
    edition_id: int,
    arch: str,
    method_name: str,
    done: float,
    epochs: int,
    seconds: float,
    now: dt.datetime | None = None,
) -> None:
    """Record one network's epoch count (written to a temporary file, then renamed)."""
    now = now or timezone.now()
    networks = _read_raw(edition_id)
    networks[arch] = {
        "method_name": method_name,
        "done": round(float(done), 4),
        "epochs": int(epochs),
        "seconds": float(seconds),
        "updated_at": now.isoformat(),
    }
    _write_raw(edition_id, networks)


def progress_done(*, edition_id: int, arch: str) -> None:
    """This network no longer trains (finished, reused or failed)."""
    networks = _read_raw(edition_id)
    if networks.pop(arch, None) is not None:
        _write_raw(edition_id, networks)


def progress_clear(*, edition_id: int) -> None:
    progress_path(edition_id=edition_id).unlink(missing_ok=True)


def progress_read(*, edition_id: int, now: dt.datetime | None = None) -> list[NetworkProgress]:
    """The networks training for this edition, updated within ``STALE_AFTER_S``."""
    now = now or timezone.now()
    found = []
    for arch, row in _read_raw(edition_id).items():
        try:
            updated = dt.datetime.fromisoformat(row["updated_at"])
            item = NetworkProgress(
                arch=arch,
                method_name=str(row["method_name"]),
                done=float(row["done"]),
                epochs=int(row["epochs"]),
                seconds=float(row["seconds"]),
                updated_at=updated,
            )
        except (KeyError, TypeError, ValueError):
            continue  # a row this version does not understand: not shown
        if (now - updated).total_seconds() <= STALE_AFTER_S:
            found.append(item)
    return sorted(found, key=lambda item: item.arch)


def _read_raw(edition_id: int) -> dict:
    try:
        value = json.loads(progress_path(edition_id=edition_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _write_raw(edition_id: int, networks: dict) -> None:
    path = progress_path(edition_id=edition_id)
    if not networks:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(networks, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)
