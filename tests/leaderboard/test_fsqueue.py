"""The embedded queue never shows a consumer a message that is not yet written whole.

A reader lists the queue folder as a consumer does and reads each message it finds, while a
producer in another thread publishes large messages. kombu's own filesystem transport lets the
reader see empty files (the worker then died with "Unrecoverable error: JSONDecodeError");
ours must not, and every message must arrive once.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from kombu import Connection
from kombu.transport import filesystem

import leaderboard.celery  # noqa: F401  (registers the "filesystem" alias)
from leaderboard import fsqueue

MESSAGES = 300
PAD = "x" * 200_000  # large enough that writing a message takes a while


def options(root: Path) -> dict:
    for sub in ("queue", "processed", "control"):
        (root / sub).mkdir(exist_ok=True)
    return {
        "data_folder_in": str(root / "queue"),
        "data_folder_out": str(root / "queue"),
        "processed_folder": str(root / "processed"),
        "control_folder": str(root / "control"),
        "store_processed": False,
    }


def torn_reads(root: Path, transport: type, *, queue_name: str) -> int:
    """Publish MESSAGES through ``transport`` while reading every visible message file."""
    done = threading.Event()
    torn = 0
    folders = options(root)

    def produce() -> None:
        with Connection("filesystem://", transport=transport, transport_options=folders) as c:
            queue = c.SimpleQueue(queue_name)
            for i in range(MESSAGES):
                queue.put({"i": i, "pad": PAD})
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    folder = root / "queue"
    while not done.is_set():
        for name in os.listdir(folder):
            if name.partition(".")[2] != f"{queue_name}.msg":  # the consumer's own filter
                continue
            try:
                text = (folder / name).read_bytes()
                json.loads(text)
            except FileNotFoundError:
                continue
            except ValueError:
                torn += 1
    producer.join()
    return torn


def test_the_site_uses_the_whole_message_transport():
    with Connection("filesystem://") as c:
        assert type(c.transport) is fsqueue.Transport


def visible_while_half_written(
    root: Path, transport, module, monkeypatch: pytest.MonkeyPatch, *, queue_name: str
) -> list[bytes]:
    """Publish one message through ``transport`` whose write stops half way; meanwhile list the
    queue folder as a consumer does and return what each visible message file holds.

    The pause is made, not waited for: ``module``'s ``open`` hands out files whose first write
    puts down half the bytes, then waits until the folder has been read.
    """
    half_written, inspected = threading.Event(), threading.Event()
    real_open = open

    class Paused:
        def __init__(self, handle) -> None:
            self.handle = handle

        def write(self, data: bytes) -> int:
            middle = len(data) // 2
            self.handle.write(data[:middle])
            half_written.set()
            inspected.wait(10)
            return middle + self.handle.write(data[middle:])

        def __getattr__(self, name: str):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.handle.close()

    def paused_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return Paused(handle) if "w" in mode else handle

    monkeypatch.setattr(module, "open", paused_open, raising=False)
    folders = options(root)

    def produce() -> None:
        with Connection("filesystem://", transport=transport, transport_options=folders) as c:
            c.SimpleQueue(queue_name).put({"pad": PAD})

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        assert half_written.wait(30), "the producer never wrote"
        folder = root / "queue"
        seen = [
            (folder / name).read_bytes()
            for name in os.listdir(folder)
            if name.partition(".")[2] == f"{queue_name}.msg"  # the consumer's own filter
        ]
    finally:
        inspected.set()
        producer.join(30)
    return seen


def test_kombus_own_transport_shows_a_half_written_message(tmp_path, monkeypatch):
    """The check can fail: the stock transport writes the message under the name consumers
    take, so a consumer listing the folder mid-write reads half a message (the worker then died
    with "Unrecoverable error: JSONDecodeError")."""
    (seen,) = visible_while_half_written(
        tmp_path, filesystem.Transport, filesystem, monkeypatch, queue_name="stock"
    )
    with pytest.raises(ValueError):
        json.loads(seen)


def test_ours_shows_no_message_until_it_is_whole(tmp_path, monkeypatch):
    seen = visible_while_half_written(
        tmp_path, fsqueue.Transport, fsqueue, monkeypatch, queue_name="ours"
    )
    assert seen == []  # mid-write, the message is under a name no consumer takes
    with Connection(
        "filesystem://", transport=fsqueue.Transport, transport_options=options(tmp_path)
    ) as c:
        message = c.SimpleQueue("ours").get(block=False)
        assert message.payload == {"pad": PAD}
        message.ack()


@pytest.mark.slow
def test_every_listed_message_is_whole_and_arrives_once(tmp_path):
    assert torn_reads(tmp_path, fsqueue.Transport, queue_name="whole") == 0
    with Connection(
        "filesystem://", transport=fsqueue.Transport, transport_options=options(tmp_path)
    ) as c:
        queue = c.SimpleQueue("whole")
        seen = []
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            seen.append(message.payload["i"])
            message.ack()
    assert sorted(seen) == list(range(MESSAGES))
    assert not [n for n in os.listdir(tmp_path / "queue") if n.endswith(".part")]
