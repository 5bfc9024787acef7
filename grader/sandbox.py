"""The trusted side of the worker: start it with limits, send requests, survive its failures."""

import dataclasses
import json
import os
import pickle
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader import messages
from grader.messages import ErrorInfo, Import, ImportResult, ProtocolError, Request

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The worker runs from copies next to the submission: its source, and the message types it
# shares with this side under a name that no student module is likely to take.
WORKER_FILES = {HERE / "worker.py": "worker.py", HERE / "messages.py": "_grader_messages.py"}
# What the student's code must not read: hidden tests, reference weights, solutions, fixtures.
SECRETS = (ROOT / "grader", ROOT / "solutions", ROOT / "tests")
NOBODY = 65534  # the unprivileged user the worker becomes when the grader runs as root
MAX_REPLY_BYTES = 512 * 2**20  # a reply holds tensors of a few MB; refuse to buffer more
MAX_LOG_BYTES = 8 * 2**20  # the worker's log is started afresh when a restart finds it larger
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POLL_SECONDS = 0.5  # how often a waiting call looks at how long its worker has been queued
WALL_FACTOR = 10  # no call waits more than this many times its timeout, however busy the cores
SIGNALS = {  # why the kernel killed a worker, in the student's terms
    "SIGXFSZ": "it wrote more than the {file_mb} MB allowed (printing or a file)",
    "SIGKILL": "killed, most likely for using too much memory",
    "SIGSEGV": "a crash in native code (segmentation fault)",
    "SIGABRT": "a crash in native code (abort)",
}


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
class Outcome:
    """What came back from one call: a result, or why there is none.

    status: ok, exception (the student's code raised, or its reply was unusable), timeout,
    crashed (the worker died), or grader (the worker refused the request: a grader bug).
    """

    status: str
    result: object = None  # the messages.*Result of the request when ok
    error: ErrorInfo | None = None  # exception, grader
    seconds: float = 0.0  # timeout: the limit that ran out
    memory_mb: int = 0  # timeout: what the worker held then
    reason: str = ""  # crashed: why, in the student's terms
    importing: bool = False  # timeout: while importing a file, before any test
    context: str = ""  # where the failure happened, when not in the call itself
    log_tail: str = ""

    @property
    def ok(self) -> bool:
        """Whether a result came back."""
        return self.status == "ok"

    def student_message(self) -> str:
        """A short explanation for the student, ending with what to look at."""
        message = self._message()
        return f"{message} ({self.context})" if self.context else message

    def _message(self) -> str:
        if self.status == "timeout" and self.importing:
            return (
                f"timed out after {self.seconds:.0f} s while the file was being imported: code "
                "at the top level of a file runs when it is imported, so training or "
                'experiments belong under `if __name__ == "__main__":` or in a function'
            )
        if self.status == "timeout":
            if self.memory_mb >= 1024:  # torch alone holds a few hundred MB
                return (
                    f"timed out after {self.seconds:.0f} s while holding "
                    f"{self.memory_mb / 1024:.1f} GB of memory: look for memory that grows "
                    "without end (a list that keeps every batch, a tensor far larger than needed)"
                )
            return (
                f"timed out after {self.seconds:.0f} s: look for an infinite "
                "loop or a much slower computation than needed (a Python loop over a batch?)"
            )
        if self.status == "crashed":
            return (
                f"the process running your code died ({self.reason or 'unknown'}): "
                "a call to exit, a crash in native code, too much memory or output"
            )
        error = self.error or ErrorInfo("Error", "")
        where = f" ({error.where})" if error.where else ""
        return f"{error.type}: {error.message}{where}"


def installed_packages() -> list[str]:
    """The packages students are told they may use: those of requirements-student.txt."""
    path = ROOT / "requirements-student.txt"
    lines = path.read_text().splitlines() if path.is_file() else []
    names = [re.split(r"[<>=!~ ;\[]", line.strip(), maxsplit=1)[0] for line in lines]
    return [n for n in names if n and not n.startswith(("#", "-"))]


def _import_notes(where: str, result: ImportResult, module: str) -> list[str]:
    """Notes on one import: why it failed, and what it changed for the whole process."""
    notes = []
    error = result.errors.get(module)
    if error is not None and error.type == "ModuleNotFoundError":
        packages = ", ".join(installed_packages()) or "the course's requirements.txt"
        notes.append(
            f"{where} cannot be imported: {error.message} ({error.where}). Where your code is "
            f"graded, only Python's standard library and {packages} are installed: remove that "
            "import or move it into the code that needs it"
        )
    elif error is not None:
        notes.append(f"{where} cannot be imported: {error.type}: {error.message} ({error.where})")
    for change in result.changes.get(module, ()):
        notes.append(
            f"importing {where} {change}: the grader undoes that before every test, so each "
            "file is graded with PyTorch's defaults (do it inside the functions that need it)"
        )
    return notes


def _unusable(message: str, detail: str = "") -> Outcome:
    """The worker's reply could not be used: the student's code is the only way it gets so."""
    return Outcome("exception", error=ErrorInfo("InvalidResult", message, traceback=detail))


class Sandbox:
    """A worker process over one staged submission folder, restarted after any failure."""

    def __init__(self, tree: Path, limits: Limits | None = None, student_files: tuple = ()):
        self.tree = Path(tree)
        self.limits = limits or Limits()
        self.student_files = tuple(student_files)  # where a traceback points the student
        self.notes: list[str] = []  # what calls reported about the submission, once each
        self.proc: subprocess.Popen | None = None
        self.broken: dict[str, Outcome] = {}  # module -> how its import hung or crashed
        self.substitutes: dict[str, str] = {}  # broken module -> trusted stand-in
        self.log_path = self.tree.parent / "worker.log"
        self.home = self.tree.parent / "home"
        self.home.mkdir(exist_ok=True)
        for source, name in WORKER_FILES.items():
            shutil.copy(source, self.tree.parent / name)
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
                "student_files": list(self.student_files),
                "aliases": dict(self.limits.aliases),
            }
        )

    def start(self) -> None:
        """Start a worker with the limits, its two pipes and its log."""
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
        need it as a helper get its trusted fallback. Returns notes for the results: imports
        that failed (a missing package named with what is installed) and what an import changed
        of the process-wide settings (undone before every test).
        """
        notes = []
        for module in modules:
            where = module.replace(".", "/") + ".py"
            outcome = self.call(Import((module,)), timeout)
            if outcome.status in ("timeout", "crashed"):
                self.broken[module] = outcome
                if module in fallbacks:
                    self.substitutes[module] = fallbacks[module]
                notes.append(f"importing {where} failed: {outcome.student_message()}")
            elif outcome.ok:
                notes += _import_notes(where, outcome.result, module)
        return notes

    def sibling(self, **limits) -> "Sandbox":
        """Another worker over the same staged tree, with these limits changed, that knows which
        modules failed to import here (the full tier trains in several at once)."""
        twin = Sandbox(self.tree, dataclasses.replace(self.limits, **limits), self.student_files)
        twin.broken, twin.substitutes = self.broken, self.substitutes
        return twin

    def _broken_target(self, request: Request) -> Outcome | None:
        """How an earlier import of the module that `request` needs hung or crashed, if it did."""
        init = getattr(request, "init", None)
        names = (
            getattr(request, "target", None),
            getattr(request, "loop", None),
            init and init.target,
        )
        for target in names:
            module = target.partition(":")[0] if target else None
            if module in self.broken:
                where = module.replace(".", "/") + ".py"
                context = f"while importing {where}, before the tests ran"
                return dataclasses.replace(self.broken[module], context=context)
        return None

    def call(self, request: Request, timeout: float | None = None) -> Outcome:
        """Send one request; a timeout or a crash kills the worker and is reported as such."""
        if hasattr(request, "substitutes"):
            earlier = self._broken_target(request)
            if earlier is not None:
                return earlier
            request = dataclasses.replace(request, substitutes=dict(self.substitutes))
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        timeout = timeout or self.limits.timeout
        try:
            messages.write_frame(self.req_w, messages.encode(request))
            payload = messages.read_frame(self.rep_r, self._waiter(timeout), MAX_REPLY_BYTES)
        except (BrokenPipeError, EOFError):
            return self._crashed()
        except messages.FrameTooLarge as exc:
            self.kill()
            size = exc.args[0] >> 20
            return _unusable(f"the result is {size} MB: return only what was asked")
        if payload is None:
            held = self.memory_mb()
            self.kill()
            importing = isinstance(request, Import)
            return Outcome(
                "timeout",
                seconds=timeout,
                memory_mb=held,
                importing=importing,
                log_tail=self.log_tail(),
            )
        return self._outcome(payload, request)

    def _outcome(self, payload: bytes, request: Request) -> Outcome:
        """The Outcome of a reply's bytes; a reply that cannot be read kills the worker."""
        try:
            reply = messages.decode_reply(messages.load_payload(payload), request)
        except (pickle.UnpicklingError, RuntimeError, TypeError, ValueError, EOFError) as exc:
            self.kill()
            if isinstance(exc, ProtocolError):  # loaded, but not shaped like a reply
                return _unusable(
                    "the worker's reply is malformed: did your code change the grader's?",
                    str(exc)[:4000],
                )
            return _unusable(
                "the result could not be read back: return plain torch tensors (no subclasses "
                "or other objects)",
                f"{type(exc).__name__}: {exc}"[:4000],
            )
        if reply.restart:  # a trusted module stood in for a broken one: start clean
            self.kill()
        if reply.ok:
            for note in getattr(reply.result, "notes", ()):
                if note not in self.notes:
                    self.notes.append(note)
            return Outcome("ok", result=reply.result)
        status = "grader" if reply.error.origin == "grader" else "exception"
        return Outcome(status, error=reply.error, log_tail=self.log_tail())

    def _waiter(self, timeout: float):
        """A `wait` for messages.read_frame: True once the reply pipe is readable, False when
        the call has used up `timeout`.

        A call is charged its wall time minus the time its worker spent queued for a core, so
        a busy machine (a batch, other gradings) does not turn a pass into a timeout, while a
        worker that sleeps or waits forever is still charged; but never less than the CPU time
        its processes used, per torch thread it was given, so that processes it started itself
        (a fork bomb keeps every one of them queued) cannot stretch its time either.
        WALL_FACTOR x timeout of wall time ends any call.
        """
        start = time.monotonic()
        queued, cpu = self.usage()

        def wait() -> bool:
            while True:
                elapsed = time.monotonic() - start
                now_queued, now_cpu = self.usage()
                charged = max(
                    elapsed - (now_queued - queued), (now_cpu - cpu) / self.limits.threads
                )
                left = min(timeout - charged, WALL_FACTOR * timeout - elapsed)
                if left <= 0:
                    return False
                if select.select([self.rep_r], [], [], min(left, POLL_SECONDS))[0]:
                    return True

        return wait

    def _crashed(self) -> Outcome:
        try:
            code = self.proc.wait(timeout=5) if self.proc else None
        except subprocess.TimeoutExpired:  # alive, but it closed its end of the channel
            self.kill()
            return Outcome("crashed", reason="it closed the channel to the grader")
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            reason = SIGNALS.get(name, f"killed by signal {name}").format(**vars(self.limits))
        else:
            reason = f"exit code {code}"
        self.kill()
        return Outcome("crashed", reason=reason, log_tail=self.log_tail())

    def log_tail(self, n: int = 4000) -> str:
        """The last `n` bytes of the worker's log, for course staff."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, self.log_path.stat().st_size - n))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _session(self) -> list[Path]:
        """/proc entries of the worker and everything it started (its session)."""
        if self.proc is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[3]) == self.proc.pid:  # its session
                        found.append(entry)
                except (OSError, ValueError, IndexError):
                    continue  # gone meanwhile, or not ours to read
        return found

    def memory_mb(self) -> int:
        """Resident memory of the worker and everything it started (its session), in MB.

        Each process counts its proportional share (Pss) of the pages it shares, so that a fork
        bomb's copies of one address space are not counted once per copy (RSS summed over the
        copies reported tens of GB); without smaps_rollup, RSS."""
        total_kb = 0
        for entry in self._session():
            try:
                try:
                    lines, field = (entry / "smaps_rollup").read_text().splitlines(), "Pss:"
                except OSError:
                    lines, field = (entry / "status").read_text().splitlines(), "VmRSS:"
                total_kb += next(
                    (int(line.split()[1]) for line in lines if line.startswith(field)), 0
                )
            except (OSError, ValueError, IndexError):
                continue
        return total_kb >> 10

    def usage(self) -> tuple[float, float]:
        """(queued, cpu) seconds of the worker's session: the kernel's run_delay of its busiest
        process (time ready to run but waiting for a free core) and the CPU time of all its
        processes, children they reaped included; 0 where the kernel does not say. The
        session is looked up afresh each time: a call may start processes."""
        delays, ticks = [0], 0
        for entry in self._session():
            try:
                delays.append(int((entry / "schedstat").read_text().split()[1]))
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
            except (OSError, ValueError, IndexError):
                continue
        return max(delays) / 1e9, ticks / CLOCK_TICKS

    def kill(self) -> None:
        """Kill the worker and everything it started, and close the pipes."""
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
