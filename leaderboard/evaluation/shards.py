"""How a large set is cut into slices (cheap: no torch)."""

from evaluator.shards import Span, shard_spans

__all__ = ["Span", "shard_spans"]
