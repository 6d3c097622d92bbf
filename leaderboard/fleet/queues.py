"""How many messages wait in each Celery queue: LLEN on the broker's lists (Redis only).

Celery's Redis transport keeps a queue as a list under the queue's name, plus one list per
priority step when priorities are used (``name\\x06\\x163``...); the depth is their sum.
Messages a worker has taken but not acknowledged are in the ``unacked`` hash, for all queues.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)


@dataclass(frozen=True)
class QueueDepths:
    depths: dict[str, int | None]  # None: unknown (not Redis, or unreachable)
    unacked: int | None
    error: str = ""


def queue_depths(*, broker_url: str, queues: list[str], timeout_s: float = 2.0) -> QueueDepths:
    """Waiting messages per queue, in one round trip; never raises."""
    if not broker_url.startswith(("redis://", "rediss://", "unix://")):
        return QueueDepths(depths=dict.fromkeys(queues), unacked=None, error="not a Redis broker")
    try:
        client = redis.Redis.from_url(
            broker_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        with client.pipeline(transaction=False) as pipe:
            for queue in queues:
                pipe.llen(queue)
                for step in PRIORITY_STEPS:
                    pipe.llen(f"{queue}{PRIORITY_SEPARATOR}{step}")
            pipe.hlen("unacked")
            counts = pipe.execute()
        client.close()
    except (redis.RedisError, OSError) as exc:
        return QueueDepths(depths=dict.fromkeys(queues), unacked=None, error=str(exc)[:200])
    per_queue = 1 + len(PRIORITY_STEPS)
    depths = {
        queue: sum(counts[i * per_queue : (i + 1) * per_queue]) for i, queue in enumerate(queues)
    }
    return QueueDepths(depths=depths, unacked=int(counts[-1]))
