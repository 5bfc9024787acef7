"""Tests of grader/messages.py: the typed requests and replies between grader and worker."""

import os

import pytest
import torch

from grader import messages
from grader.messages import (
    Call,
    CallResult,
    ErrorInfo,
    Grad,
    Import,
    Init,
    Ping,
    ProtocolError,
    Reply,
    Run,
    Train,
)


def roundtrip(request):
    """A request encoded, sent through torch.save/load as on the pipe, and decoded."""
    payload = messages.load_payload(_frame_bytes(messages.encode(request)))
    return messages.decode_request(payload)


def _frame_bytes(payload) -> bytes:
    r, w = os.pipe()
    try:
        messages.write_frame(w, payload)
        os.close(w)
        return messages.read_frame(r)
    finally:
        os.close(r)


def test_every_request_survives_the_pipe():
    """Does each request type come back equal after encoding, framing and decoding?"""
    state = {"w": torch.arange(6.0).reshape(2, 3)}
    requests = [
        Call("m:f", args=(torch.ones(2), 3, 0.5, None, [1, 2]), kwargs={"k": "v"}, repeat=4),
        Call(
            "m:C.f",
            init=Init("m:C", {"n": 2}, state),
            grad=Grad(output=1, args=(0,), params=("w",)),
            patches={"m": {"h": "_reference.m:h"}},
            fallbacks={"m": "_reference.m"},
        ),
        Train("m:train", Init("m:C"), {"x": torch.zeros(3)}, {"steps": 2}, seed=1, threads=2),
        Import(("a", "b.c")),
        Ping(),
    ]
    for request in requests:
        back = roundtrip(request)
        assert type(back) is type(request)
        assert messages.encode(back).keys() == messages.encode(request).keys()
    call = roundtrip(requests[1])
    assert call.grad == Grad(1, (0,), ("w",)) and torch.equal(call.init.state["w"], state["w"])


@pytest.mark.parametrize(
    "payload, phrase",
    [
        ({"op": "cal", "target": "m:f"}, "unknown request 'cal'"),
        ({"op": "call", "target": "m:f", "patch": {}}, "unknown field(s) patch"),
        ({"op": "call"}, "missing field(s) target"),
        ({"op": "call", "target": "m:f", "repeat": "3"}, "call.repeat: expected int, got str"),
        ({"op": "call", "target": "m:f", "grad": {"output": 0, "param": []}}, "unknown field"),
        ({"op": "import", "modules": "codebase.utils"}, "expected a list, got str"),
        ({"op": "call", "target": "m:f", "args": [object()]}, "cannot travel"),
        (["call"], "unknown request 'list'"),
    ],
)
def test_a_malformed_request_is_refused_with_its_field(payload, phrase):
    """Does a misspelt, missing or mistyped field raise ProtocolError naming it?"""
    with pytest.raises(ProtocolError, match=phrase.replace("(", r"\(").replace(")", r"\)")):
        messages.decode_request(payload)


def test_replies_are_checked_against_their_request():
    """Does a reply decode only with the result type its request asks for?"""
    run = Run((torch.ones(2),), (False,))
    good = messages.encode(Reply(ok=True, result=CallResult((run,))))
    reply = messages.decode_reply(good, Call("m:f"))
    assert torch.equal(reply.result.runs[0].outputs[0], torch.ones(2))
    with pytest.raises(ProtocolError, match="reply.result: unknown field"):
        messages.decode_reply(good, Ping())
    forged = {**good, "result": {"runs": [{"outputs": ["not a tensor"], "inputs_changed": []}]}}
    with pytest.raises(ProtocolError, match="expected Tensor"):
        messages.decode_reply(forged, Call("m:f"))
    with pytest.raises(ProtocolError, match="must say why"):
        messages.decode_reply({"ok": False}, Call("m:f"))
    failed = messages.encode(Reply(ok=False, error=ErrorInfo("ValueError", "bad", "f.py, line 3")))
    assert messages.decode_reply(failed, Call("m:f")).error.where == "f.py, line 3"


def test_frames_refuse_oversized_and_report_timeouts():
    """Does read_frame stop at max_bytes, return None when `wait` gives up, and raise EOFError
    when the writer closed mid-frame?"""
    r, w = os.pipe()
    try:
        messages.write_frame(w, {"x": torch.zeros(1000)})
        with pytest.raises(messages.FrameTooLarge):
            messages.read_frame(r, wait=lambda: True, max_bytes=100)
    finally:
        os.close(r)
        os.close(w)
    r, w = os.pipe()
    try:
        assert messages.read_frame(r, wait=lambda: False) is None
        os.write(w, messages.HEADER.pack(10) + b"abc")
        os.close(w)
        with pytest.raises(EOFError):
            messages.read_frame(r, wait=lambda: True)
    finally:
        os.close(r)


def test_the_module_imports_nothing_of_the_grader():
    """Can messages.py run beside the worker, outside the grader package (as
    _grader_messages.py)?"""
    source = messages.__file__
    text = open(source).read()
    assert "from grader" not in text and "import grader" not in text
