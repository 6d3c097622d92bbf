"""Model files: which accepted format a file is in, how many values it stores, how it loads.

- ``detect``: the format from the file's bytes alone, with bounded work (the trusted parent);
- ``params``: the values a file stores, counted as data (the trusted parent);
- ``loaders``: a file to a ``LoadedModel`` (the sandboxed child only; ``onnx_check`` first);
- ``base``: ``ModelFormat`` and ``LoadedModel``; the rest are the parsers they share.

The networks a safetensors file can name are in ``evaluator.architectures``.
"""

from evaluator import lazy_exports

__all__ = ["LoadedModel", "ModelFormat", "detect_format", "load_model", "stored_values"]

__getattr__ = lazy_exports(
    __name__,
    {
        "LoadedModel": "base",
        "ModelFormat": "base",
        "detect_format": "detect",
        "load_model": "loaders",
        "stored_values": "params",
    },
)
