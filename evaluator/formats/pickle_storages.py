"""The tensor storages a torch pickle names, read without unpickling it.

A TorchScript archive's ``data.pkl`` (and ``constants.pkl``) names each storage by a persistent
id, the tuple ``("storage", <torch XStorage>, key, location, numel)``, whose data is the archive
entry ``data/<key>``; the loader makes a storage of exactly ``numel`` elements from it. This
walks the opcodes with ``pickletools.genops`` and keeps an abstract stack: strings, integers,
globals (as names) and tuples are tracked, everything else is an opaque placeholder, so that no
object is ever built and no code can run.
"""

from __future__ import annotations

import pickletools
from collections.abc import Iterator

MAX_OPS = 2_000_000


class PickleWalkError(ValueError):
    """The pickle is malformed, too long, or names storages in a form this does not read."""


class _Opaque:
    """Any value the walk does not need to know."""


class _Mark:
    """pickle's MARK on the stack."""


class Global(str):
    """``module name`` of a GLOBAL / STACK_GLOBAL: a name, never imported."""


_OPAQUE, _MARK = _Opaque(), _Mark()
_STRINGS = frozenset(
    {"UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "STRING", "BINSTRING"}
    | {"SHORT_BINSTRING"}
)
_INTS = frozenset({"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"})
_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_GETS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_SMALL_TUPLES = {"EMPTY_TUPLE": 0, "TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}


def storage_numels(data: bytes, *, max_ops: int = MAX_OPS) -> dict[str, int]:
    """Storage key -> number of elements, for every storage the pickle's persistent ids name."""
    numels: dict[str, int] = {}
    for pid in _persistent_ids(data, max_ops=max_ops):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise PickleWalkError(f"a persistent id that is not a storage: {_show(pid)}")
        _, kind, key, _location, numel = pid
        ok = isinstance(kind, Global) and isinstance(key, str)
        if not (ok and type(numel) is int and numel >= 0):
            raise PickleWalkError(f"a storage id of an unexpected form: {_show(pid)}")
        numels[key] = max(numel, numels.get(key, 0))
    return numels


def _persistent_ids(data: bytes, *, max_ops: int) -> Iterator[object]:
    stack: list[object] = []
    memo: dict[int, object] = {}
    try:
        for count, (op, arg, _pos) in enumerate(pickletools.genops(data)):
            if count >= max_ops:
                raise PickleWalkError(f"more than {max_ops} opcodes")
            name = op.name
            if name == "BINPERSID":
                yield _pop(stack)
                stack.append(_OPAQUE)
            elif name == "PERSID":
                raise PickleWalkError("a text persistent id (protocol 0)")
            elif name in _PUTS:
                memo[arg] = _top(stack)
            elif name == "MEMOIZE":
                memo[len(memo)] = _top(stack)
            elif name in _GETS:
                if arg not in memo:
                    raise PickleWalkError(f"memo {arg} read before it is written")
                stack.append(memo[arg])
            else:
                _apply(name, op, arg, stack)
    except (ValueError, TypeError, EOFError) as exc:
        if isinstance(exc, PickleWalkError):
            raise
        raise PickleWalkError(f"a damaged pickle ({exc})") from exc


def _apply(name: str, op: pickletools.OpcodeInfo, arg: object, stack: list[object]) -> None:
    """One opcode's effect on the abstract stack."""
    if name in _STRINGS:
        stack.append(arg if isinstance(arg, str) else _OPAQUE)
    elif name in _INTS:
        stack.append(arg if type(arg) is int else _OPAQUE)
    elif name == "GLOBAL":
        stack.append(Global(str(arg)))
    elif name == "STACK_GLOBAL":
        attr, module = _pop(stack), _pop(stack)
        ok = isinstance(module, str) and isinstance(attr, str)
        stack.append(Global(f"{module} {attr}") if ok else _OPAQUE)
    elif name == "MARK":
        stack.append(_MARK)
    elif name == "TUPLE":
        stack.append(tuple(_pop_to_mark(stack)))
    elif name in _SMALL_TUPLES:
        n = _SMALL_TUPLES[name]
        items = [_pop(stack) for _ in range(n)][::-1]
        stack.append(tuple(items))
    else:
        _generic(op, stack)


def _generic(op: pickletools.OpcodeInfo, stack: list[object]) -> None:
    """Pop what the opcode consumes and push placeholders for what it produces."""
    before = op.stack_before
    below = len(before)
    if pickletools.markobject in before:
        _pop_to_mark(stack)
        below = before.index(pickletools.markobject)
    for _ in range(below):
        _pop(stack)
    stack.extend(_OPAQUE for _ in op.stack_after)


def _pop_to_mark(stack: list[object]) -> list[object]:
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is _MARK:
            items = stack[i + 1 :]
            del stack[i:]
            return items
    raise PickleWalkError("MARK expected on the stack")


def _pop(stack: list[object]) -> object:
    if not stack or stack[-1] is _MARK:
        raise PickleWalkError("pops an empty stack")
    return stack.pop()


def _top(stack: list[object]) -> object:
    if not stack:
        raise PickleWalkError("memoizes an empty stack")
    return stack[-1]


def _show(value: object) -> str:
    return repr(value)[:120]
