"""The untrusted side: imports a submission and runs what the trusted grader asks for.

Run as `python -I worker.py TREE FD_IN FD_OUT THREADS [CONFIG_JSON]`. Requests and replies are
the dataclasses of grader/messages.py, sent as frames on two inherited pipes, so nothing the
student prints can be mistaken for a reply; replies hold only plain tensors, numbers, strings,
lists and dicts, which the trusted side loads with torch.load(weights_only=True). This file
imports nothing of the grader: the sandbox copies it, and messages.py as _grader_messages.py,
next to the submission, and it runs there.

Before anything of the student's is imported, the worker shuts itself in (`isolate`): started
as root, it moves into fresh mount, network, PID and IPC namespaces, hides the grader's folders
and the host's temporary folders behind empty file systems, and becomes an unprivileged user;
in every case it then installs an audit hook that refuses network access, new processes and
writes outside its folder (see `guard`).
"""

import ctypes
import errno
import importlib
import importlib.abc
import importlib.util
import json
import os
import random
import resource
import signal
import stat
import sys
import traceback
import warnings

# --------------------------------------------------------------------------- isolation
# This part runs first, while the process is single-threaded and before torch is imported, so
# that torch and everything after it load as the unprivileged user, through the mounts below.

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x8000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")  # shared writable places, replaced by private ones

ISOLATION: dict = {}  # what `isolate` achieved, reported to the trusted side by op "ping"
REFERENCE: dict = {}  # module name -> source of the trusted modules, read before dropping root
# (the helpers staged in TREE/_reference, and the message types beside this file)
_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags: int, data: str | None = None) -> None:
    def enc(value):
        return None if value is None else str(value).encode()

    _check(
        _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {target}",
    )


def _traversable(path: str, uid: int) -> bool:
    st = os.stat(path)
    return bool(st.st_mode & stat.S_IXOTH or (st.st_uid == uid and st.st_mode & stat.S_IXUSR))


def _blocked_ancestor(path: str, uid: int) -> str | None:
    """The outermost folder on the way to `path` that `uid` may not enter, if any."""
    parts = path.strip("/").split("/")
    for i in range(len(parts)):
        folder = "/" + "/".join(parts[:i])
        if folder != "/" and not _traversable(folder, uid):
            return folder
    return None


def _cover(mountpoint: str, keep: list, mode: str = "0755", flags: int = 0) -> None:
    """Put an empty tmpfs over `mountpoint`, then bind the `keep` paths below it back in place."""
    keep = sorted({k for k in keep if k.startswith(mountpoint.rstrip("/") + "/")})
    keep = [k for k in keep if not any(k.startswith(o + "/") for o in keep if o != k)]
    fds = [os.open(k, os.O_PATH) for k in keep]
    _mount("tmpfs", mountpoint, "tmpfs", MS_NOSUID | MS_NODEV | flags, f"mode={mode},size=64m")
    for path, fd in zip(keep, fds):
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").close()
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)


def _interpreter_paths() -> list:
    """The folders Python and its packages load from, which must stay visible."""
    found = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    found.update(p for p in sys.path if p and os.path.exists(p))
    return sorted(os.path.realpath(p) for p in found)


def _relay(child: int) -> None:
    """The first process stays outside the new PID namespace: it ends as its child ends."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, f: os.kill(child, signal.SIGKILL))
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status))


def _read_reference(tree: str) -> None:
    """Keep the trusted modules of tree/_reference in memory; their files stay root's."""
    base = os.path.join(tree, "_reference")
    for root, _, files in os.walk(base):
        for name in files:
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(root, name), tree)[:-3].split(os.sep)
                if rel[-1] == "__init__":
                    rel = rel[:-1]
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    REFERENCE[".".join(rel)] = f.read()


class _ReferenceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports `_reference.*` from memory (see `_read_reference`)."""

    def find_spec(self, name, path=None, target=None):
        if name not in REFERENCE:
            return None
        is_package = f"{name}.__init__" in REFERENCE or any(
            k.startswith(name + ".") for k in REFERENCE
        )
        return importlib.util.spec_from_loader(name, self, is_package=is_package)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        code = compile(REFERENCE[module.__name__], f"<{module.__name__}>", "exec")
        exec(code, module.__dict__)


def _shut_in(tree: str, config: dict, uid: int) -> None:
    """In fresh namespaces: private scratch folders, secrets hidden, Python kept reachable."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    workdir = os.path.dirname(os.path.realpath(tree))
    needed = _interpreter_paths()
    for scratch in SCRATCH:
        if os.path.isdir(scratch):
            _cover(scratch, [workdir] + needed, mode="1777")
    for secret in config.get("hide", []):
        if os.path.isdir(secret):
            _cover(secret, [], mode="0000", flags=MS_RDONLY)
            ISOLATION["hidden"].append(secret)
    for _ in range(8):  # folders on the way to Python that `uid` may not enter, outermost first
        blocked = sorted({b for b in (_blocked_ancestor(p, uid) for p in needed) if b})
        if not blocked:
            break
        _cover(blocked[0], needed)
    ISOLATION["namespaces"] = "mount, network, pid, ipc"
    child = os.fork()
    if child:
        _relay(child)  # never returns
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def isolate(tree: str, config: dict) -> None:
    """Shut the worker in as far as this machine allows; record what was done in ISOLATION."""
    _read_reference(tree)
    messages = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_grader_messages.py")
    with open(messages, encoding="utf-8") as f:  # beside this file, and root's like it
        REFERENCE["_grader_messages"] = f.read()
    sys.meta_path.insert(0, _ReferenceFinder())
    ISOLATION.update(user="unchanged", namespaces="none", hidden=[])
    uid = int(config.get("uid", 65534))
    if os.geteuid() != 0 or not config.get("isolate", True):
        return
    try:
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC), "unshare")
    except OSError as exc:
        ISOLATION["namespaces"] = f"unavailable ({exc.strerror})"
        if any(_blocked_ancestor(p, uid) for p in _interpreter_paths()):
            return  # without a mount namespace Python's own files would be out of uid's reach
    else:
        _shut_in(tree, config, uid)
    nproc = int(config.get("nproc", 256))
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")
    ISOLATION["user"] = f"uid {uid}"


if __name__ == "__main__":
    isolate(sys.argv[1], json.loads(sys.argv[5]) if len(sys.argv) > 5 else {})

import torch  # noqa: E402 - only after isolate(), see above
from _grader_messages import (  # noqa: E402 - read into memory by isolate(), see above
    Call,
    CallResult,
    ErrorInfo,
    Grad,
    Grads,
    Import,
    ImportResult,
    Init,
    Ping,
    PingResult,
    ProtocolError,
    Reply,
    Request,
    Run,
    SelfCheck,
    SelfCheckResult,
    Train,
    TrainResult,
    decode_request,
    encode,
    load_payload,
    read_frame,
    write_frame,
)

STATE = {"tainted": False}  # True once a trusted module replaced a student's one in sys.modules


class SubmissionError(Exception):
    """The submission returned something unusable; the message is for the student."""


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


def patch_helpers(patches: dict[str, dict[str, str]], modules: list) -> list:
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
    """Undo `patch_helpers`."""
    for holder, name, original in reversed(undo):
        setattr(holder, name, original)


def install(name: str, source: str) -> None:
    """Make the trusted module `source` stand in for `name`, in sys.modules and its package.

    Modules of the staged tree imported so far are forgotten first: one of them may hold the
    broken module, half imported (a utils.py that imports the models at its top, then fails),
    and would keep using it; imported again, they get the stand-in.
    """
    module, _ = resolve(source)
    tree = SUBMISSION["tree"]
    for loaded_name, loaded in list(sys.modules.items()):
        path = os.path.realpath(getattr(loaded, "__file__", None) or "")
        if tree and path.startswith(tree + os.sep) and not loaded_name.startswith("_reference"):
            del sys.modules[loaded_name]
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    STATE["tainted"] = True


def fallback_imports(fallbacks: dict[str, str], substitutes: dict[str, str]) -> list[str]:
    """Import modules; one that fails is replaced by its trusted fallback. Returns notes.

    `substitutes` are replaced without trying: their import hung or killed an earlier worker.
    """
    notes = []
    for name, source in substitutes.items():
        install(name, source)
        notes.append(f"{name} could not be imported earlier; a trusted copy stood in")
    for name, source in fallbacks.items():
        if name in substitutes:
            continue
        try:
            importlib.import_module(name)
        except Exception as exc:  # the student's module is broken: grade the rest without it
            install(name, source)
            notes.append(f"{name} failed to import ({type(exc).__name__}); a trusted copy stood in")
    return notes


# --------------------------------------------------------------------------- guard

PROCESS_EVENTS = frozenset(
    {
        "os.fork",
        "os.forkpty",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "subprocess.Popen",
        "pty.spawn",
    }
)
NETWORK_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
    }
)
INTROSPECTION_EVENTS = frozenset({"gc.get_objects", "gc.get_referrers", "gc.get_referents"})
PATH_EVENTS = {  # event -> positions of its path arguments, all of which are written to
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.rename": (0, 1),
    "os.link": (0, 1),
    "os.symlink": (1,),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.mkdir": (0,),
    "os.utime": (0,),
    "shutil.rmtree": (0,),
    "os.chflags": (0,),
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
DEVICES = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty")


def guard(writable: list, hidden: list) -> None:
    """Refuse, with a clear PermissionError, what a graded function has no business doing.

    Network access, new processes, signals to other processes, and writes outside `writable`
    (the submission's folder and its home), reads under `hidden` (the grader's folders). This
    is the second line of defence: the namespaces and the user change of `isolate` are the
    first, and the only one that native code (ctypes) cannot get around.
    """
    writable = tuple(os.path.realpath(w) + os.sep for w in writable)
    hidden = tuple(os.path.realpath(h) + os.sep for h in hidden)
    me = os.getpid()

    def real(path):
        if type(path) is bytes:
            path = path.decode("utf-8", "surrogateescape")
        elif type(path) is not str:
            path = os.fspath(path) if type(path).__module__ == "pathlib" else None
        if path is None:
            raise PermissionError("while grading, file paths must be str, bytes or pathlib paths")
        return os.path.realpath(path) + os.sep

    def refuse_write(path) -> None:
        if type(path) is int:
            return
        where = real(path)
        if where.rstrip(os.sep) not in DEVICES and not where.startswith(writable):
            raise PermissionError(f"writing {path} is not allowed while grading: use your folder")

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            if type(path) is int or path is None:
                return
            if (mode and any(c in mode for c in "wax+")) or (flags or 0) & WRITE_FLAGS:
                refuse_write(path)
            elif real(path).startswith(hidden):
                raise PermissionError(f"{path}: the grader's files are not readable")
        elif event in PATH_EVENTS:
            for i in PATH_EVENTS[event]:
                if i < len(args):
                    refuse_write(args[i])
        elif event in NETWORK_EVENTS:
            raise PermissionError("network access is not allowed while grading")
        elif event in PROCESS_EVENTS:
            raise PermissionError("starting processes is not allowed while grading")
        elif event in ("os.kill", "os.killpg") and args[0] not in (me, 0):
            raise PermissionError("signalling other processes is not allowed while grading")
        elif event in INTROSPECTION_EVENTS:
            raise PermissionError(f"{event} is not available while grading")

    sys.addaudithook(hook)


# --------------------------------------------------------------------------- global state
# What one student file sets for the whole process (a default dtype, a thread count, a patched
# torch function, a warning filter) must not reach the tests of another file: the worker takes
# a snapshot of that state before it imports anything of the student's, puts it back before and
# after every request, and names the file that changed it.

WATCHED = (
    "torch",
    "torch.nn.functional",
    "torch.linalg",
    "numpy",
    "numpy.random",
    "math",
    "random",
)


class GlobalState:
    """A snapshot of the process-wide settings that student code can change.

    Watched: torch's default dtype, threads, grad mode and deterministic mode, the warning
    filters, and the functions and classes of torch, torch.nn.functional, torch.linalg, numpy,
    numpy.random, math, random, torch.Tensor and torch.nn.Module (a student replacing one of
    them). Attributes added later, such as submodules imported by name, are left alone.
    """

    def __init__(self, threads: int):
        import numpy  # noqa: F401 - imported so that its functions can be watched
        import torch.nn.functional  # noqa: F401

        self.threads = threads
        self.holders = [importlib.import_module(m) for m in WATCHED] + [
            torch.Tensor,
            torch.nn.Module,
        ]
        self.callables = [
            {k: v for k, v in vars(h).items() if callable(v) and not isinstance(v, type(torch))}
            for h in self.holders
        ]
        self.dtype = torch.get_default_dtype()
        self.deterministic = torch.are_deterministic_algorithms_enabled()
        self.filters = list(warnings.filters)

    def _replaced(self):
        """(holder, name, original) of every watched function or class replaced since by one
        that torch, numpy or Python did not define (torch rebinds a few of its own lazily);
        on torch.Tensor and torch.nn.Module, a method added over an inherited one too
        (original None)."""
        for holder, saved in zip(self.holders, self.callables):
            now = vars(holder)
            for key, value in saved.items():
                if now.get(key) is not value and _foreign(now.get(key)):
                    yield holder, key, value
            if isinstance(holder, type):
                for key in set(now) - set(saved):
                    if callable(now[key]) and not key.startswith("__") and _foreign(now[key]):
                        yield holder, key, None

    def differences(self) -> list[str]:
        """What differs from the snapshot, in a student's words."""
        found = []
        if torch.get_default_dtype() != self.dtype:
            found.append(f"sets torch's default dtype to {torch.get_default_dtype()}")
        if torch.get_num_threads() != self.threads:
            found.append(f"sets torch's threads to {torch.get_num_threads()}")
        if not torch.is_grad_enabled():
            found.append("turns gradients off for the whole process")
        if torch.are_deterministic_algorithms_enabled() != self.deterministic:
            found.append("changes torch.use_deterministic_algorithms")
        replaced = [f"{getattr(h, '__name__', h)}.{k}" for h, k, _ in self._replaced()]
        if replaced:
            found.append("replaces " + ", ".join(replaced[:3]) + (" ..." if replaced[3:] else ""))
        if warnings.filters != self.filters:
            found.append("changes the warning filters")
        return found

    def restore(self) -> None:
        """Put every watched setting back as it was in the snapshot."""
        for holder, key, original in list(self._replaced()):
            if original is None:
                delattr(holder, key)
            else:
                setattr(holder, key, original)
        torch.set_default_dtype(self.dtype)
        torch.set_num_threads(self.threads)
        torch.set_grad_enabled(True)
        if torch.are_deterministic_algorithms_enabled() != self.deterministic:
            torch.use_deterministic_algorithms(self.deterministic)  # imports inductor: 1 s
        warnings.filters[:] = self.filters


def _foreign(value) -> bool:
    """Was `value` defined outside torch, numpy and Python's own modules (or deleted)?"""
    module = getattr(value, "__module__", None) or ""
    return value is None or module.split(".")[0] not in (
        "torch",
        "numpy",
        "builtins",
        "math",
        "random",
        "_random",
    )


GLOBAL: dict = {}  # "state": the GlobalState taken before the first request
SUBMISSION: dict = {"tree": "", "files": []}  # the staged tree and the student's files in it


# --------------------------------------------------------------------------- values


def plain(value, what: str) -> tuple[torch.Tensor, ...]:
    """Check that `value` is a tensor or a tuple of tensors; return detached plain copies."""
    if isinstance(value, (tuple, list)):
        return tuple(plain_tensor(v, f"{what}[{i}]") for i, v in enumerate(value))
    return (plain_tensor(value, what),)


def plain_tensor(value, what: str) -> torch.Tensor:
    """A detached, contiguous copy of a tensor (or Parameter); anything else is refused."""
    if type(value) is torch.nn.Parameter:
        value = value.data
    if type(value) is not torch.Tensor:
        raise SubmissionError(f"{what} is a {type(value).__name__}, expected a torch.Tensor")
    return torch.Tensor.detach(value).clone().contiguous()


def build(init: Init, notes: list[str]):
    """Instantiate the class named by init.target and load init.state into it.

    A model whose __init__ adds parameters or buffers keeps their own values and gets the
    shipped weights everywhere else; what was not loaded is said in `notes`.
    """
    _, cls = resolve(init.target)
    obj = cls(**init.kwargs)
    if init.state is not None:
        missing, unexpected = obj.load_state_dict(init.state, strict=False)
        name = cls.__name__
        if missing:
            notes.append(
                f"{name}.__init__ creates {', '.join(missing[:4])}, which the handout's model "
                "does not have: the grader loaded its trained weights into everything else, and "
                "these keep the values your __init__ gives them"
            )
        if unexpected:
            notes.append(
                f"{name} lacks {', '.join(unexpected[:4])} of the handout's model: those trained "
                "weights were not loaded (keep the provided layers and their names)"
            )
    return obj


# --------------------------------------------------------------------------- operations


def seed_everything(seed: int) -> None:
    """Seed torch, numpy and random: a call draws the same numbers whatever ran before it."""
    import numpy

    torch.manual_seed(seed)
    numpy.random.seed(seed % 2**32)
    random.seed(seed)


def op_call(req: Call) -> CallResult:
    """Call a function or a model method `repeat` times; gather outputs and gradients.

    With req.init, the object it builds is the method's owner, or, when init.arg is a
    position, an argument of the function passed at that position (e.g. a critic network).
    """
    notes = fallback_imports(req.fallbacks, req.substitutes)
    module, fn = resolve(req.target)
    undo = patch_helpers(req.patches, [module])
    try:
        obj = build(req.init, notes) if req.init is not None else None
        if obj is not None and req.init.arg is None:
            fn = getattr(obj, req.target.split(":")[1].split(".")[-1])
        seed_everything(req.seed)
        runs = tuple(one_call(fn, obj, req) for _ in range(req.repeat))
    finally:
        unpatch(undo)
    return CallResult(runs, tuple(notes))


def one_call(fn, obj, req: Call) -> Run:
    """One call of `fn` on fresh copies of the request's arguments."""
    args = [a.clone() if isinstance(a, torch.Tensor) else a for a in req.args]
    if obj is not None and req.init.arg is not None:
        args.insert(req.init.arg, obj)
    originals = [a.clone() if isinstance(a, torch.Tensor) else None for a in args]
    grad = req.grad
    for i in grad.args if grad else ():
        args[i].requires_grad_(True)
    if obj is not None:
        obj.zero_grad(set_to_none=True)
    with torch.set_grad_enabled(grad is not None):
        out = fn(*args, **req.kwargs)
    outputs = plain(out, "the return value")
    changed = tuple(
        bool(o is not None and not torch.equal(torch.Tensor.detach(a), o))
        for a, o in zip(args, originals)
    )
    return Run(outputs, changed, gradients(out, args, obj, grad) if grad else None)


def gradients(out, args: list, obj, grad: Grad) -> Grads:
    """Backpropagate from output grad.output (summed); return input and parameter grads."""
    outs = out if isinstance(out, (tuple, list)) else [out]
    target = outs[grad.output]
    if not (isinstance(target, torch.Tensor) and target.requires_grad):
        return Grads(tuple(None for _ in grad.args), {}, False)
    target.sum().backward()
    arg_grads = tuple(
        None if args[i].grad is None else plain_tensor(args[i].grad, "grad") for i in grad.args
    )
    params = {}
    if obj is not None:
        named = dict(obj.named_parameters())
        for name in grad.params:
            g = named[name].grad
            params[name] = torch.zeros_like(named[name]) if g is None else plain_tensor(g, name)
    return Grads(arg_grads, params, True)


def op_train(req: Train) -> TrainResult:
    """Build a model, train it with the provided loop, return its state dict."""
    notes = fallback_imports(req.fallbacks, req.substitutes)
    _, loop = resolve(req.loop)
    torch.set_num_threads(req.threads)
    seed_everything(req.seed)
    model = build(req.init, notes)
    data = type("Data", (), dict(req.data))()
    loop(model, data, **req.loop_kwargs)
    state = {k: plain_tensor(v, k) for k, v in model.state_dict().items()}
    return TrainResult(state, tuple(notes))


def op_import(req: Import) -> ImportResult:
    """Import the modules in order; report each failure (anything, SystemExit included) and
    what each import changed of the process-wide settings."""
    errors, changes = {}, {}
    state = GLOBAL["state"]
    for name in req.modules:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - report anything, including SystemExit
            errors[name] = describe(exc)
        if found := state.differences():
            changes[name] = tuple(found)
        state.restore()
    return ImportResult(errors, changes)


def op_selfcheck(req: SelfCheck) -> SelfCheckResult:
    """Run the released check.py's public checks (each catches its own exceptions)."""
    checks = importlib.import_module("check").checks
    return SelfCheckResult(tuple(checks.results(req.selectors)))


OPS = {
    Call: op_call,
    Train: op_train,
    Import: op_import,
    Ping: lambda req: PingResult(dict(ISOLATION)),
    SelfCheck: op_selfcheck,
}


def describe(exc: BaseException) -> ErrorInfo:
    """The exception as plain strings; `where` is the last line of the student's own files in
    its traceback (else of the staged tree, else the last line outside the worker)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "worker.py" not in f.filename]
    where = ""
    if isinstance(exc, SyntaxError):  # its own filename and line say where; frames do not
        if exc.filename and exc.lineno:
            where = f"{os.path.basename(exc.filename)}, line {exc.lineno}"
    elif frame := _student_frame(frames):
        where = f"{os.path.basename(frame.filename)}, line {frame.lineno}"
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    message = str(exc)[:2000]
    if isinstance(exc, SyntaxError):
        version = ".".join(map(str, sys.version_info[:3]))
        message += (
            f" (the grader runs Python {version}: syntax that only a newer Python accepts "
            "fails here too)"
        )
    if isinstance(exc, NotImplementedError) and not message:
        message = "not implemented yet (the starter stub is still there)"
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0] >> 20
        message += f" (while grading, output and files are limited to {limit} MB)"
    return ErrorInfo(type(exc).__name__, message, where, tb[-20000:])


def _student_frame(frames: list):
    """The frame to show a student: in one of their files, else in the staged tree, else the
    last one that is not the grader's (None when there is none)."""
    tree = SUBMISSION["tree"]

    def relative(frame) -> str | None:
        path = os.path.realpath(frame.filename)
        return os.path.relpath(path, tree) if tree and path.startswith(tree + os.sep) else None

    own = [f for f in frames if relative(f) in SUBMISSION["files"]]
    staged = [f for f in frames if relative(f) is not None]
    outside = [f for f in frames if not f.filename.startswith("<")]
    for group in (own, staged, outside):
        if group:
            return group[-1]
    return None


def parse(data: bytes) -> Request | Reply:
    """The request of one frame, or the error reply that a malformed one gets."""
    try:
        return decode_request(load_payload(data))
    except (ProtocolError, RuntimeError, EOFError, ValueError) as exc:  # a grader bug
        message = f"the grader sent a malformed request: {exc}"
        return Reply(ok=False, error=ErrorInfo("ProtocolError", message, origin="grader"))


def answer(request: Request) -> Reply:
    """The reply to one request: its result, or the error that replaced it."""
    state = GLOBAL["state"]
    state.restore()  # whatever an earlier request left changed
    try:
        return Reply(ok=True, result=OPS[type(request)](request))
    except BaseException as exc:  # noqa: BLE001 - SystemExit and friends are results too
        return Reply(ok=False, error=describe(exc))
    finally:
        state.restore()  # before the reply is written with torch.save


# --------------------------------------------------------------------------- aliases


class AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports `alias` and `alias.x` as the very module objects of `target` and `target.x`.

    XCS236 files say `from submission import utils`, where this homework's package is
    `codebase`. Each file is imported once, under its real name: the grader replaces helpers
    of codebase.utils by identity, and a second copy under the other name would escape them.
    """

    def __init__(self, aliases: dict):
        self.aliases = dict(aliases)  # alias -> real top-level name

    def real_name(self, name: str) -> str | None:
        """The real module that `name` stands for, or None when it is no alias."""
        for alias, real in self.aliases.items():
            if name == alias or name.startswith(alias + "."):
                return real + name[len(alias) :]
        return None

    def find_spec(self, name, path=None, target=None):
        """A spec that loads the real module for an aliased name."""
        if self.real_name(name) is None:
            return None
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):
        """Let the import system make the module object."""
        return None

    def exec_module(self, module):
        """Load the real module and put it in the alias's place."""
        # the import machinery returns whatever sys.modules holds under the name afterwards
        sys.modules[module.__name__] = importlib.import_module(self.real_name(module.__name__))


def serve(fd_in: int, fd_out: int) -> None:
    """Answer requests until the grader closes the channel."""
    while (data := read_frame(fd_in)) is not None:
        request = parse(data)
        del data  # a Train request carries a data set: its frame is not kept while it trains
        reply = request if isinstance(request, Reply) else answer(request)
        write_frame(fd_out, encode(Reply(reply.ok, reply.result, reply.error, STATE["tainted"])))
        del request, reply  # nor kept while the next one is read


def main() -> None:
    """Serve a submission's tree: `python -I worker.py TREE FD_IN FD_OUT THREADS CONFIG`."""
    tree, fd_in, fd_out, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    config = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    sys.path.insert(0, tree)
    os.chdir(tree)
    torch.set_num_threads(threads)
    GLOBAL["state"] = GlobalState(threads)  # before anything of the student's is imported
    SUBMISSION.update(tree=os.path.realpath(tree), files=config.get("student_files", []))
    guard([tree, os.environ.get("HOME", tree)], config.get("hide", []))
    if config.get("aliases"):
        sys.meta_path.insert(0, AliasFinder(config["aliases"]))
    serve(fd_in, fd_out)


if __name__ == "__main__":
    main()
