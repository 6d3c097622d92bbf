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


@pytest.mark.slow
def test_kombus_own_transport_shows_torn_messages(tmp_path):
    """The check below can fail: the stock transport is caught by it. (Each test has a queue
    name of its own: kombu keeps exchange bindings in a class-wide state across connections.)"""
    # A race, rarer on a quiet machine: give it up to 40 rounds (stopping at the first torn
    # read) before calling the check blind; 5 rounds missed it once in a full run.
    assert any(
        torn_reads(tmp_path, filesystem.Transport, queue_name=f"stock{k}") > 0 for k in range(40)
    )


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
