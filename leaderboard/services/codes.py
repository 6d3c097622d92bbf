"""Join codes: short, unambiguous to read aloud or copy from a slide, unique per kind."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.db import IntegrityError, transaction

# No 0/O, 1/I/L: a code written on a whiteboard is typed right the first time.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 8


def code_new(*, length: int = LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def code_assign(*, save: Callable[[str], None], attempts: int = 5) -> str:
    """Call ``save(code)`` with fresh codes until the unique constraint accepts one.

    31^8 codes make a collision rare; each attempt runs in its own savepoint so a clash
    leaves the caller's transaction usable.
    """
    for _ in range(attempts):
        code = code_new()
        try:
            with transaction.atomic():
                save(code)
            return code
        except IntegrityError:
            continue
    raise RuntimeError("could not find an unused join code")
