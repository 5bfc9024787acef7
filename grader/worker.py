"""The untrusted side: imports a submission and runs what the trusted grader asks for.

Run as `python -I worker.py TREE FD_IN FD_OUT THREADS`. Requests and replies are
length-prefixed torch.save payloads on two inherited pipes, so nothing the student prints can
be mistaken for a reply. Replies hold only plain tensors, numbers, strings, lists and dicts,
which the trusted side loads with torch.load(weights_only=True). This file imports nothing of
the grader: it is copied next to the submission and runs there.
"""

import importlib
import io
import os
import struct
import sys
import traceback

import torch

STATE = {"tainted": False}  # True once a trusted module replaced a student's one in sys.modules


class SubmissionError(Exception):
    """The submission returned something unusable; the message is for the student."""


# --------------------------------------------------------------------------- framing


def read_message(fd: int):
    head = _read_exact(fd, 8)
    if head is None:
        return None
    (size,) = struct.unpack("<Q", head)
    return torch.load(io.BytesIO(_read_exact(fd, size)), weights_only=True)


def write_message(fd: int, obj) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    os.write(fd, struct.pack("<Q", len(data)))
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, n: int):
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------- resolution


def resolve(target: str):
    """'pkg.module:Name.attr' -> (module, object)."""
    module_name, _, qualname = target.partition(":")
    module = importlib.import_module(module_name)
    obj = module
    for part in qualname.split(".") if qualname else []:
        if not hasattr(obj, part):
            raise SubmissionError(f"{module_name.replace('.', '/')}.py has no {qualname}")
        obj = getattr(obj, part)
    return module, obj


def patch_helpers(patches: dict, modules: list) -> list:
    """Replace helper functions by trusted ones, in their module and wherever imported by name.

    patches: {"codebase.utils": {"log_normal": "_reference.utils:log_normal", ...}}
    Returns the (object, name, original) triples that undo the patch.
    """
    undo = []
    for module_name, names in patches.items():
        target = importlib.import_module(module_name)
        for name, source in names.items():
            _, trusted = resolve(source)
            original = getattr(target, name, None)
            for holder in [target] + [
                m for m in modules if original is not None and getattr(m, name, None) is original
            ]:
                undo.append((holder, name, getattr(holder, name, None)))
                setattr(holder, name, trusted)
    return undo


def unpatch(undo: list) -> None:
    for holder, name, original in reversed(undo):
        setattr(holder, name, original)


def fallback_imports(fallbacks: dict) -> list:
    """Import modules; one that fails is replaced by its trusted fallback. Returns notes."""
    notes = []
    for name, source in fallbacks.items():
        try:
            importlib.import_module(name)
        except Exception as exc:  # the student's module is broken: grade the rest without it
            module, _ = resolve(source)
            sys.modules[name] = module
            parent, _, child = name.rpartition(".")
            if parent in sys.modules:
                setattr(sys.modules[parent], child, module)
            notes.append(f"{name} failed to import ({type(exc).__name__}); a trusted copy stood in")
    STATE["tainted"] = STATE["tainted"] or bool(notes)
    return notes


# --------------------------------------------------------------------------- values


def plain(value, what: str):
    """Check that `value` is a tensor or a tuple of tensors; return detached plain copies."""
    if isinstance(value, (tuple, list)):
        return [plain_tensor(v, f"{what}[{i}]") for i, v in enumerate(value)]
    return [plain_tensor(value, what)]


def plain_tensor(value, what: str) -> torch.Tensor:
    if type(value) is torch.nn.Parameter:
        value = value.data
    if type(value) is not torch.Tensor:
        raise SubmissionError(f"{what} is a {type(value).__name__}, expected a torch.Tensor")
    return torch.Tensor.detach(value).clone().contiguous()


def build(init: dict):
    """Instantiate the class named by init['target'] and load init['state'] into it."""
    _, cls = resolve(init["target"])
    obj = cls(**init.get("kwargs", {}))
    if "state" in init:
        obj.load_state_dict(init["state"])
    return obj


# --------------------------------------------------------------------------- operations


def op_call(req: dict) -> dict:
    """Call a function or a model method `repeat` times; gather outputs and gradients."""
    notes = fallback_imports(req.get("fallbacks", {}))
    module, fn = resolve(req["target"])
    undo = patch_helpers(req.get("patches", {}), [module])
    try:
        obj = build(req["init"]) if "init" in req else None
        if obj is not None:
            fn = getattr(obj, req["target"].split(":")[1].split(".")[-1])
        torch.manual_seed(req.get("seed", 0))
        grad = req.get("grad")
        runs = [one_call(fn, obj, req, grad) for _ in range(req.get("repeat", 1))]
    finally:
        unpatch(undo)
    return {"runs": runs, "notes": notes}


def one_call(fn, obj, req: dict, grad) -> dict:
    args = [a.clone() if isinstance(a, torch.Tensor) else a for a in req.get("args", [])]
    originals = [a.clone() if isinstance(a, torch.Tensor) else None for a in args]
    for i in (grad or {}).get("args", []):
        args[i].requires_grad_(True)
    if obj is not None:
        obj.zero_grad(set_to_none=True)
    with torch.set_grad_enabled(bool(grad)):
        out = fn(*args, **req.get("kwargs", {}))
    result = {"outputs": plain(out, "the return value")}
    result["inputs_changed"] = [
        bool(o is not None and not torch.equal(torch.Tensor.detach(a), o))
        for a, o in zip(args, originals)
    ]
    if grad:
        result["grads"] = gradients(out, args, obj, grad)
    return result


def gradients(out, args: list, obj, grad: dict) -> dict:
    """Backpropagate from output grad['output'] (summed); return input and parameter grads."""
    outs = out if isinstance(out, (tuple, list)) else [out]
    target = outs[grad.get("output", 0)]
    if not (isinstance(target, torch.Tensor) and target.requires_grad):
        return {"args": [None for _ in grad.get("args", [])], "params": {}, "connected": False}
    target.sum().backward()
    arg_grads = [
        None if args[i].grad is None else plain_tensor(args[i].grad, "grad")
        for i in grad.get("args", [])
    ]
    params = {}
    if obj is not None:
        named = dict(obj.named_parameters())
        for name in grad.get("params", []):
            g = named[name].grad
            params[name] = torch.zeros_like(named[name]) if g is None else plain_tensor(g, name)
    return {"args": arg_grads, "params": params, "connected": True}


def op_train(req: dict) -> dict:
    """Build a model, train it with the provided loop, return its state dict."""
    notes = fallback_imports(req.get("fallbacks", {}))
    _, loop = resolve(req["loop"])
    torch.set_num_threads(req.get("threads", torch.get_num_threads()))
    torch.manual_seed(req.get("seed", 0))
    model = build(req["init"])
    data = type("Data", (), dict(req["data"]))()
    loop(model, data, **req.get("loop_kwargs", {}))
    return {"state": {k: plain_tensor(v, k) for k, v in model.state_dict().items()}, "notes": notes}


def op_import(req: dict) -> dict:
    errors = {}
    for name in req["modules"]:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - report anything, including SystemExit
            errors[name] = describe(exc)
    return {"errors": errors}


OPS = {"call": op_call, "train": op_train, "import": op_import, "ping": lambda req: {}}


def describe(exc: BaseException) -> dict:
    """The exception as plain strings, with the traceback trimmed to the submission's frames."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "worker.py" not in f.filename and not f.filename.startswith("<")]
    if isinstance(exc, SyntaxError):  # its own filename and line say where; frames do not
        frames = []
    where = f"{os.path.basename(frames[-1].filename)}, line {frames[-1].lineno}" if frames else ""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    message = str(exc)[:2000]
    if isinstance(exc, NotImplementedError) and not message:
        message = "not implemented yet (the starter stub is still there)"
    return {
        "type": type(exc).__name__,
        "message": message,
        "where": where,
        "traceback": tb[-20000:],
    }


def serve(fd_in: int, fd_out: int) -> None:
    while True:
        req = read_message(fd_in)
        if req is None:
            return
        try:
            reply = {"ok": True, "result": OPS[req["op"]](req)}
        except BaseException as exc:  # noqa: BLE001 - SystemExit and friends are results too
            reply = {"ok": False, "error": describe(exc)}
        reply["restart"] = STATE["tainted"]
        write_message(fd_out, reply)


def main() -> None:
    tree, fd_in, fd_out, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    sys.path.insert(0, tree)
    os.chdir(tree)
    torch.set_num_threads(threads)
    serve(fd_in, fd_out)


if __name__ == "__main__":
    main()
