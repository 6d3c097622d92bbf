"""Where the commands write: people get lines and tables, ``--json`` gets one JSON document.

In JSON mode stdout carries only the document; progress and status changes go to stderr.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, TextIO


@dataclass
class Console:
    json_mode: bool = False
    quiet: bool = False
    stdout: TextIO | None = None
    stderr: TextIO | None = None

    @property
    def out(self) -> TextIO:
        return self.stdout or sys.stdout

    @property
    def err(self) -> TextIO:
        return self.stderr or sys.stderr

    def say(self, text: str) -> None:
        """A line for people: stdout normally, stderr when stdout is reserved for JSON."""
        if self.quiet and self.json_mode:
            return
        print(text, file=self.err if self.json_mode else self.out, flush=True)

    def show(self, text: str, data: Any) -> None:
        """The command's result: ``text`` for people, ``data`` as JSON with ``--json``."""
        if self.json_mode:
            print(json.dumps(data, indent=2, sort_keys=True), file=self.out, flush=True)
        else:
            print(text, file=self.out, flush=True)
