"""The trusted side of the worker: start it with limits, send requests, survive its failures."""

import io
import json
import os
import pickle
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from grader import worker as protocol

WORKER_SOURCE = Path(protocol.__file__)
ROOT = WORKER_SOURCE.parent.parent
# What the student's code must not read: hidden tests, reference weights, solutions, fixtures.
SECRETS = (ROOT / "grader", ROOT / "solutions", ROOT / "tests")
NOBODY = 65534  # the unprivileged user the worker becomes when the grader runs as root
MAX_REPLY_BYTES = 512 * 2**20  # a reply holds tensors of a few MB; refuse to buffer more
MAX_LOG_BYTES = 8 * 2**20  # the worker's log is started afresh when a restart finds it larger
SIGNALS = {  # why the kernel killed a worker, in the student's terms
    "SIGXFSZ": "it wrote more than the {file_mb} MB allowed (printing or a file)",
    "SIGKILL": "killed, most likely for using too much memory",
    "SIGSEGV": "a crash in native code (segmentation fault)",
    "SIGABRT": "a crash in native code (abort)",
}


class ReplyTooLarge(Exception):
    """The worker announced a reply larger than MAX_REPLY_BYTES."""


@dataclass
class Limits:
    """Resource limits of one worker process."""

    memory_mb: int = 6144  # address space; torch alone maps about 1.5 GB of it
    file_mb: int = 64  # largest file the worker may write (its log included)
    threads: int = 1  # torch threads
    timeout: float = 60.0  # seconds per call unless the call says otherwise
    processes: int = 256  # RLIMIT_NPROC of the unprivileged user (threads count too)
    background: bool = False  # SCHED_IDLE: the worker runs only on cores nothing else wants
    isolate: bool = True  # as root: namespaces, hidden folders, an unprivileged user
    hide: tuple = SECRETS
    aliases: dict = field(default_factory=dict)  # module names the worker maps (Homework.aliases)


@dataclass
class Reply:
    """What came back from one call: a result, or why there is none."""

    status: str  # ok | exception | timeout | crashed
    result: dict = field(default_factory=dict)
    error: dict = field(default_factory=dict)
    log_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def student_message(self) -> str:
        """A short explanation for the student, ending with what to look at."""
        message = self._message()
        context = self.error.get("context")
        return f"{message} ({context})" if context else message

    def _message(self) -> str:
        if self.status == "timeout":
            held = self.error.get("memory_mb", 0)
            if held >= 1024:  # torch alone holds a few hundred MB
                return (
                    f"timed out after {self.error.get('seconds', 0):.0f} s while holding "
                    f"{held / 1024:.1f} GB of memory: look for memory that grows without end "
                    "(a list that keeps every batch, a tensor far larger than needed)"
                )
            return (
                f"timed out after {self.error.get('seconds', 0):.0f} s: look for an infinite "
                "loop or a much slower computation than needed (a Python loop over a batch?)"
            )
        if self.status == "crashed":
            return (
                f"the process running your code died ({self.error.get('reason', 'unknown')}): "
                "a call to exit, a crash in native code, too much memory or output"
            )
        where = f" ({self.error['where']})" if self.error.get("where") else ""
        return f"{self.error.get('type', 'Error')}: {self.error.get('message', '')}{where}"


class Sandbox:
    """A worker process over one staged submission folder, restarted after any failure."""

    def __init__(self, tree: Path, limits: Limits | None = None):
        self.tree = Path(tree)
        self.limits = limits or Limits()
        self.proc: subprocess.Popen | None = None
        self.broken: dict[str, Reply] = {}  # module -> how its import hung or crashed
        self.substitutes: dict[str, str] = {}  # broken module -> trusted stand-in
        self.log_path = self.tree.parent / "worker.log"
        self.home = self.tree.parent / "home"
        self.home.mkdir(exist_ok=True)
        shutil.copy(WORKER_SOURCE, self.tree.parent / "worker.py")
        if os.geteuid() == 0 and self.limits.isolate:
            self._hand_over()

    def _hand_over(self) -> None:
        """As root: the unprivileged worker owns its tree and home, and nothing else here.

        The folder above them, the worker's own source and the trusted modules stay root's:
        a restarted worker runs that source as root, and the trusted modules are read before
        the worker gives up root (worker.isolate).
        """
        os.chmod(self.tree.parent, 0o711)
        for folder in (self.tree, self.home):
            for path in [folder, *folder.rglob("*")]:
                os.lchown(path, NOBODY, NOBODY)
        for path in [self.tree / "_reference", *(self.tree / "_reference").rglob("*")]:
            if path.exists():
                os.lchown(path, 0, 0)
                os.chmod(path, 0o700 if path.is_dir() else 0o600)

    def config(self) -> str:
        """The worker's isolation settings, passed on its command line."""
        return json.dumps(
            {
                "isolate": self.limits.isolate,
                "uid": NOBODY,
                "nproc": self.limits.processes,
                "hide": [str(p) for p in self.limits.hide],
                "aliases": dict(self.limits.aliases),
            }
        )

    def start(self) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        if self.log_path.exists() and self.log_path.stat().st_size > MAX_LOG_BYTES:
            self.log_path.write_bytes(b"[log restarted: the previous worker wrote too much]\n")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "TMPDIR": str(self.home),
            "OMP_NUM_THREADS": str(self.limits.threads),
            # idle threads sleep instead of spinning: a training at two threads on a machine
            # that grades other submissions too slowed down many times over while spinning
            "OMP_WAIT_POLICY": "PASSIVE",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "MPLBACKEND": "Agg",
            "LANG": "C.UTF-8",
        }
        cmd = [
            sys.executable,
            "-I",
            str(self.tree.parent / "worker.py"),
            str(self.tree),
            str(req_r),
            str(rep_w),
            str(self.limits.threads),
            self.config(),
        ]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.tree,
                pass_fds=(req_r, rep_w),
                start_new_session=True,
                preexec_fn=self._apply_limits,
            )
        os.close(req_r)
        os.close(rep_w)
        self.req_w, self.rep_r = req_w, rep_r

    def _apply_limits(self) -> None:  # runs in the child, before exec
        mem = self.limits.memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        size = self.limits.file_mb * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self.limits.background:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))

    def preflight(self, modules: list[str], fallbacks: dict, timeout: float) -> list[str]:
        """Import the student's modules one by one, in order, before any test runs.

        A module whose import hangs or kills the worker is remembered: calls into it then fail
        at once with that verdict instead of waiting out the timeout again, and calls that only
        need it as a helper get its trusted fallback. Returns notes for the results.
        """
        notes = []
        for module in modules:
            reply = self.call({"op": "import", "modules": [module]}, timeout)
            if reply.status in ("timeout", "crashed"):
                self.broken[module] = reply
                if module in fallbacks:
                    self.substitutes[module] = fallbacks[module]
                where = module.replace(".", "/") + ".py"
                notes.append(f"importing {where} failed: {reply.student_message()}")
        return notes

    def _broken_target(self, request: dict) -> Reply | None:
        init = request.get("init", {})
        for target in (request.get("target"), request.get("loop"), init.get("target")):
            module = str(target).partition(":")[0] if target else None
            if module in self.broken:
                earlier = self.broken[module]
                where = module.replace(".", "/") + ".py"
                context = f"while importing {where}, before the tests ran"
                error = {**earlier.error, "context": context}
                return Reply(earlier.status, error=error, log_tail=earlier.log_tail)
        return None

    def call(self, request: dict, timeout: float | None = None) -> Reply:
        """Send one request; a timeout or a crash kills the worker and is reported as such."""
        if request.get("op") in ("call", "train"):
            earlier = self._broken_target(request)
            if earlier is not None:
                return earlier
            request = {**request, "substitutes": self.substitutes}
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        timeout = timeout or self.limits.timeout
        try:
            protocol.write_message(self.req_w, request)
            payload = self._receive(time.monotonic() + timeout)
        except (BrokenPipeError, EOFError):
            return self._crashed()
        except ReplyTooLarge as exc:
            self.kill()
            return Reply(
                "exception",
                error={
                    "type": "ResultTooLarge",
                    "message": f"the result is {exc.args[0] >> 20} MB: return only what was asked",
                },
                log_tail=self.log_tail(),
            )
        if payload is None:
            held = self.memory_mb()
            self.kill()
            return Reply(
                "timeout", error={"seconds": timeout, "memory_mb": held}, log_tail=self.log_tail()
            )
        try:
            reply = torch.load(io.BytesIO(payload), weights_only=True)
            if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
                raise TypeError(type(reply).__name__)
        except (pickle.UnpicklingError, RuntimeError, TypeError, ValueError, EOFError) as exc:
            self.kill()
            return Reply(
                "exception",
                error={
                    "type": "InvalidResult",
                    "message": "the result could not be read back: return plain torch tensors "
                    "(no subclasses or other objects)",
                    "traceback": f"{type(exc).__name__}: {exc}"[:4000],
                },
                log_tail=self.log_tail(),
            )
        if reply.get("restart"):  # a trusted module stood in for a broken one: start clean
            self.kill()
        if reply.get("ok"):
            return Reply("ok", result=reply["result"])
        return Reply("exception", error=reply["error"], log_tail=self.log_tail())

    def _receive(self, deadline: float) -> bytes | None:
        head = self._read(8, deadline)
        if head is None:
            return None
        size = int.from_bytes(head, "little")
        if size > MAX_REPLY_BYTES:
            raise ReplyTooLarge(size)
        return self._read(size, deadline)

    def _read(self, n: int, deadline: float) -> bytes | None:
        chunks, got = [], 0
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.rep_r], [], [], left)[0]:
                return None
            chunk = os.read(self.rep_r, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _crashed(self) -> Reply:
        try:
            code = self.proc.wait(timeout=5) if self.proc else None
        except subprocess.TimeoutExpired:  # alive, but it closed its end of the channel
            self.kill()
            return Reply("crashed", error={"reason": "it closed the channel to the grader"})
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            reason = SIGNALS.get(name, f"killed by signal {name}").format(**vars(self.limits))
        else:
            reason = f"exit code {code}"
        self.kill()
        return Reply("crashed", error={"reason": reason}, log_tail=self.log_tail())

    def log_tail(self, n: int = 4000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, self.log_path.stat().st_size - n))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def memory_mb(self) -> int:
        """Resident memory of the worker and everything it started (its session), in MB.

        Each process counts its proportional share (Pss) of the pages it shares, so that a fork
        bomb's copies of one address space are not counted once per copy (RSS summed over the
        copies reported tens of GB); without smaps_rollup, RSS."""
        if self.proc is None:
            return 0
        total_kb = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                session = int(stat.rsplit(")", 1)[1].split()[3])  # fields after the name
                if session != self.proc.pid:
                    continue
                try:
                    lines, field = (entry / "smaps_rollup").read_text().splitlines(), "Pss:"
                except OSError:
                    lines, field = (entry / "status").read_text().splitlines(), "VmRSS:"
                total_kb += next(
                    (int(line.split()[1]) for line in lines if line.startswith(field)), 0
                )
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile, or not ours to read
        return total_kb >> 10

    def kill(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
            self.proc = None
        for fd in ("req_w", "rep_r"):
            if hasattr(self, fd):
                try:
                    os.close(getattr(self, fd))
                except OSError:
                    pass
                delattr(self, fd)

    close = kill
