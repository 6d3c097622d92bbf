"""Framework-free scoring of image-classification models on a hidden test set.

Never imports Django or Celery: the web site and the workers call into this package.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """A package's ``__getattr__``: each public name imported from its module on first use.

    ``exports`` maps a name to the submodule that defines it. A package lists its public names
    in ``__init__`` this way without importing torch (or numpy) when it is imported, so the
    command line and the web process start fast.
    """

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
