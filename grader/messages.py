"""Requests and replies between the grader and its worker, and the frames that carry them.

Both sides use this one module: the trusted side imports it as `grader.messages`, and the
sandbox copies it next to the worker as `_grader_messages.py`, so it imports nothing of the
grader (only the standard library and torch). A message travels as a length-prefixed torch.save
payload of plain dicts, lists, numbers, strings and tensors, which the receiver loads with
torch.load(weights_only=True) and decodes here into the dataclasses below. Decoding checks every
field: an unknown field, a missing one or a value of the wrong type raises ProtocolError, so a
misspelt key fails loudly instead of silently falling back to a default.
"""

from __future__ import annotations

import dataclasses
import io
import os
import struct
import sys
import types
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Union

if TYPE_CHECKING:  # imported on first use (_torch): the grader starts its worker before paying
    import torch  # for torch's import, so that both processes import it at once

HEADER = struct.Struct("<Q")  # payload size in bytes, little-endian
PLAIN = (type(None), bool, int, float, str)  # scalars allowed anywhere in a message


class ProtocolError(ValueError):
    """A message that does not have the declared shape (a grader bug, or a forged reply)."""


# ----------------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Grad:
    """What to differentiate after a call: output `output`, summed, w.r.t. these inputs."""

    output: int = 0
    args: tuple[int, ...] = ()  # positions of the arguments whose gradients come back
    params: tuple[str, ...] = ()  # names of the built object's parameters, ditto


@dataclass(frozen=True)
class Init:
    """An object the worker builds before a call: `target` ('module:Class')(**kwargs).

    With `state`, the state dict is loaded into it. With `arg`, it is passed to the called
    function as positional argument `arg` (e.g. a critic network); without, the call's target
    names one of its methods.
    """

    target: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    state: dict[str, torch.Tensor] | None = None
    arg: int | None = None


@dataclass(frozen=True)
class Call:
    """Call the student's `target` ('module:function' or 'module:Class.method') `repeat` times.

    The worker seeds torch with `seed` first. `patches` replace helpers by trusted ones for the
    call ({module: {name: 'trusted.module:name'}}); `fallbacks` are trusted modules that stand in
    for a student module that fails to import ({module: 'trusted.module'}); `substitutes` are
    student modules replaced without trying (their import hung or crashed an earlier worker).
    """

    target: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    repeat: int = 1
    seed: int = 0
    grad: Grad | None = None
    init: Init | None = None
    patches: dict[str, dict[str, str]] = field(default_factory=dict)
    fallbacks: dict[str, str] = field(default_factory=dict)
    substitutes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Train:
    """Build `init`, train it with the provided `loop` ('module:function'), return its state.

    The loop is called as loop(model, data, **loop_kwargs), with `data` an object whose
    attributes are the tensors of `data`.
    """

    loop: str
    init: Init
    data: dict[str, torch.Tensor]
    loop_kwargs: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    threads: int = 1
    fallbacks: dict[str, str] = field(default_factory=dict)
    substitutes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Import:
    """Import these student modules, in order, and report which ones failed."""

    modules: tuple[str, ...]


@dataclass(frozen=True)
class Ping:
    """Report how the worker is isolated (namespaces, user, hidden folders)."""


@dataclass(frozen=True)
class SelfCheck:
    """Run the homework's public checks (its check.py, as released) on the submission."""

    selectors: tuple[str, ...] = ()


Request = Union[Call, Train, Import, Ping, SelfCheck]
REQUESTS: dict[str, type] = {
    "call": Call,
    "train": Train,
    "import": Import,
    "ping": Ping,
    "selfcheck": SelfCheck,
}


# ------------------------------------------------------------------------------------ replies


@dataclass(frozen=True)
class Grads:
    """Gradients after one call: of the requested arguments and parameters.

    `connected` is False when the differentiated output did not require grad at all.
    """

    args: tuple[torch.Tensor | None, ...]
    params: dict[str, torch.Tensor]
    connected: bool


@dataclass(frozen=True)
class Run:
    """One call's outputs (plain tensors), whether it changed its inputs, and gradients."""

    outputs: tuple[torch.Tensor, ...]
    inputs_changed: tuple[bool, ...]
    grads: Grads | None = None


@dataclass(frozen=True)
class CallResult:
    """The runs of a Call, and notes about how they were made."""

    runs: tuple[Run, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainResult:
    """The trained state dict, and notes about how it was built."""

    state: dict[str, torch.Tensor]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErrorInfo:
    """An exception as plain strings; `where` is 'file.py, line N' in the submission.

    origin: 'submission' for an exception of the student's code, 'grader' when the worker
    refused the request itself (a malformed request: a grader bug).
    """

    type: str
    message: str
    where: str = ""
    traceback: str = ""
    origin: str = "submission"


@dataclass(frozen=True)
class ImportResult:
    """Per module: the error that stopped its import, and what its import changed of the
    process-wide settings (a default dtype, a patched torch function, ...)."""

    errors: dict[str, ErrorInfo]
    changes: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class PingResult:
    """How the worker shut itself in (namespaces, user, hidden folders)."""

    isolation: dict[str, Any]


@dataclass(frozen=True)
class SelfCheckResult:
    """One dict per public check: item, part, name, passed, message, seconds."""

    results: tuple[dict[str, Any], ...]


RESULTS: dict[type, type] = {
    Call: CallResult,
    Train: TrainResult,
    Import: ImportResult,
    Ping: PingResult,
    SelfCheck: SelfCheckResult,
}


@dataclass(frozen=True)
class Reply:
    """The worker's answer to one request: a result, or the error that replaced it.

    `restart`: a trusted module stood in for a student's one, so the next call needs a fresh
    worker.
    """

    ok: bool
    result: CallResult | TrainResult | ImportResult | PingResult | SelfCheckResult | None = None
    error: ErrorInfo | None = None
    restart: bool = False


# --------------------------------------------------------------------------- encode / decode


def encode(message) -> dict:
    """A request (with its 'op') or a reply as nested plain dicts, lists and tensors."""
    body = _plain(message)
    if type(message) in REQUESTS.values():
        body["op"] = next(op for op, cls in REQUESTS.items() if cls is type(message))
    return body


def _plain(value):
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def decode_request(payload) -> Request:
    """The request in `payload` (a dict with 'op'); ProtocolError if it is not one."""
    if not isinstance(payload, dict) or payload.get("op") not in REQUESTS:
        op = payload.get("op") if isinstance(payload, dict) else type(payload).__name__
        raise ProtocolError(f"unknown request {op!r}: expected one of {', '.join(REQUESTS)}")
    body = {k: v for k, v in payload.items() if k != "op"}
    return _decode(body, REQUESTS[payload["op"]], payload["op"])


def decode_reply(payload, request: Request) -> Reply:
    """The reply to `request` in `payload`; ProtocolError if it does not have that shape."""
    if not isinstance(payload, dict):
        raise ProtocolError(f"reply: expected a dict of fields, got {type(payload).__name__}")
    expected = RESULTS[type(request)]
    result = payload.get("result")
    if payload.get("ok") is True and not isinstance(result, dict):
        raise ProtocolError(f"reply: a {type(request).__name__} returns a {expected.__name__}")
    body = {k: v for k, v in payload.items() if k != "result"}
    reply = _decode(body, Reply, "reply")
    if reply.ok:
        return dataclasses.replace(reply, result=_decode(result, expected, "reply.result"))
    if reply.error is None:
        raise ProtocolError("reply: a failed reply must say why (error)")
    return reply


def _decode(value, tp, where: str):
    """`value` checked against the type `tp` (and converted: dicts to dataclasses, lists to
    tuples)."""
    if tp is Any:
        return _check_plain(value, where)
    if dataclasses.is_dataclass(tp):
        return _decode_dataclass(value, tp, where)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        alternatives = [a for a in args if a is not type(None)]
        if len(alternatives) == 1:  # X | None: the errors of X are the useful ones
            return _decode(value, alternatives[0], where)
        for alternative in alternatives:
            try:
                return _decode(value, alternative, where)
            except ProtocolError:
                continue
        names = " or ".join(getattr(a, "__name__", str(a)) for a in args)
        raise ProtocolError(f"{where}: expected {names}, got {type(value).__name__}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ProtocolError(f"{where}: expected a list, got {type(value).__name__}")
        item = args[0]
        return tuple(_decode(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ProtocolError(f"{where}: expected a dict, got {type(value).__name__}")
        key, item = args
        return {
            _decode(k, key, where): _decode(v, item, f"{where}[{k!r}]") for k, v in value.items()
        }
    if tp is type(None):
        if value is not None:
            raise ProtocolError(f"{where}: expected None, got {type(value).__name__}")
        return None
    if tp is float:
        ok = type(value) in (int, float)
    elif tp is _torch().Tensor:
        ok = type(value) is _torch().Tensor
    else:
        ok = type(value) is tp
    if not ok:
        raise ProtocolError(f"{where}: expected {tp.__name__}, got {type(value).__name__}")
    return value


def _decode_dataclass(value, tp, where: str):
    if not isinstance(value, dict):
        raise ProtocolError(f"{where}: expected a dict of fields, got {type(value).__name__}")
    hints = _hints(tp)
    unknown = sorted(set(value) - set(hints))
    if unknown:
        raise ProtocolError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    missing = [
        f.name
        for f in dataclasses.fields(tp)
        if f.name not in value
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ProtocolError(f"{where}: missing field(s) {', '.join(missing)}")
    return tp(**{k: _decode(v, hints[k], f"{where}.{k}") for k, v in value.items()})


def _check_plain(value, where: str):
    """A value of 'Any' type: scalars, tensors, and lists, tuples and dicts of them."""
    if type(value) in PLAIN or type(value) is _torch().Tensor:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_check_plain(v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(value, dict):
        return {str(k): _check_plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise ProtocolError(f"{where}: a {type(value).__name__} cannot travel in a message")


_HINTS: dict[type, dict] = {}


def _hints(tp: type) -> dict:
    if tp not in _HINTS:
        names = {**vars(sys.modules[__name__]), "torch": _torch()}
        _HINTS[tp] = typing.get_type_hints(tp, names)
    return _HINTS[tp]


def _torch():
    """The torch module, imported on first use."""
    import torch

    return torch


# ------------------------------------------------------------------------------------- frames


def write_frame(fd: int, payload) -> None:
    """Send `payload` (plain data) as one frame: its size, then its torch.save bytes.

    The bytes are written from torch.save's buffer itself: a request that carries a data set
    (MNIST's 188 MB for the full tier) is held in memory once, not three times.
    """
    buf = io.BytesIO()
    _torch().save(payload, buf)
    with buf.getbuffer() as data:
        for view in (memoryview(HEADER.pack(len(data))), data):
            while view:
                view = view[os.write(fd, view) :]


def read_frame(
    fd: int, wait: Callable[[], bool] | None = None, max_bytes: int | None = None
) -> bytearray | None:
    """The payload bytes of the next frame, or None.

    wait: blocks until `fd` is readable and returns True, or returns False to give up, and then
    read_frame returns None (a timeout); with a `wait`, the other side closing the channel
    raises EOFError. Without one, reads block and None means the other side closed.
    max_bytes: a larger announced frame raises FrameTooLarge.
    """
    head = _read_exact(fd, HEADER.size, wait)
    if head is None:
        return None
    (size,) = HEADER.unpack(head)
    if max_bytes is not None and size > max_bytes:
        raise FrameTooLarge(size)
    return _read_exact(fd, size, wait) if size else bytearray()


def load_payload(data: bytes | bytearray):
    """Plain data from a frame's bytes, loaded so that no code can run (weights_only)."""
    return _torch().load(_Reader(data), weights_only=True)


class _Reader(io.RawIOBase):
    """A seekable file over a frame's bytes that torch.load reads without copying them."""

    def __init__(self, data: bytes | bytearray):
        super().__init__()
        self.view, self.position = memoryview(data), 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        count = max(0, min(len(target), len(self.view) - self.position))
        target[:count] = self.view[self.position : self.position + count]
        self.position += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: len(self.view)}
        self.position = base[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position


class FrameTooLarge(Exception):
    """The other side announced a frame larger than the reader accepts (args[0]: its size)."""


def _read_exact(fd: int, n: int, wait: Callable[[], bool] | None) -> bytearray | None:
    """n bytes read into one buffer (no list of chunks joined at the end)."""
    data, got = bytearray(n), 0
    with memoryview(data) as view:
        while got < n:
            if wait is not None and not wait():
                return None
            count = os.readv(fd, [view[got : got + (1 << 20)]])
            if not count:  # the other side closed its end
                if wait is not None:
                    raise EOFError(f"the channel closed after {got} of {n} bytes")
                return None
            got += count
    return data
