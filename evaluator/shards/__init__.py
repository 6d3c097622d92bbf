"""A large hidden set scored as shards on several workers, merged into one single-run result.

- ``files``: spans, where each shard's logits and report live, atomic writes, checked reads
  (cheap to import: the web process plans shards with ``shard_spans``);
- ``scoring``: ``score_shard`` and ``merge_shards``, the scoring pipeline with a shard's
  image range, and with the shards' files in place of the child's run.
"""

from evaluator import lazy_exports
from evaluator.shards.files import (
    ShardMissing,
    Span,
    info_file,
    load_logits,
    logits_file,
    read_info,
    save_logits,
    shard_done,
    shard_spans,
)

__all__ = [
    "ShardMissing",
    "Span",
    "combined_info",
    "info_file",
    "load_logits",
    "logits_file",
    "merge_shards",
    "read_info",
    "save_logits",
    "score_shard",
    "shard_done",
    "shard_spans",
    "shard_summary",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "combined_info": "scoring",
        "merge_shards": "scoring",
        "score_shard": "scoring",
        "shard_summary": "scoring",
    },
)
