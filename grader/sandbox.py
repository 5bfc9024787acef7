"""The trusted side of the worker: start it with limits, send requests, survive its failures."""

import io
import os
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


@dataclass
class Limits:
    """Resource limits of one worker process."""

    memory_mb: int = 6144  # address space; torch alone maps about 1.5 GB of it
    file_mb: int = 64  # largest file the worker may write (its log included)
    threads: int = 1  # torch threads
    timeout: float = 60.0  # seconds per call unless the call says otherwise


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
        if self.status == "timeout":
            return (
                f"timed out after {self.error.get('seconds', 0):.0f} s: look for an infinite "
                "loop or a much slower computation than needed (a Python loop over a batch?)"
            )
        if self.status == "crashed":
            return (
                f"the process running your code died ({self.error.get('reason', 'unknown')}): "
                "a call to exit, a crash in native code, or too much memory"
            )
        where = f" ({self.error['where']})" if self.error.get("where") else ""
        return f"{self.error.get('type', 'Error')}: {self.error.get('message', '')}{where}"


class Sandbox:
    """A worker process over one staged submission folder, restarted after any failure."""

    def __init__(self, tree: Path, limits: Limits | None = None):
        self.tree = Path(tree)
        self.limits = limits or Limits()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.tree.parent / "worker.log"
        shutil.copy(WORKER_SOURCE, self.tree.parent / "worker.py")

    def start(self) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.tree.parent),
            "OMP_NUM_THREADS": str(self.limits.threads),
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

    def call(self, request: dict, timeout: float | None = None) -> Reply:
        """Send one request; a timeout or a crash kills the worker and is reported as such."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        timeout = timeout or self.limits.timeout
        try:
            protocol.write_message(self.req_w, request)
            payload = self._receive(time.monotonic() + timeout)
        except (BrokenPipeError, EOFError):
            return self._crashed()
        if payload is None:
            self.kill()
            return Reply("timeout", error={"seconds": timeout}, log_tail=self.log_tail())
        reply = torch.load(io.BytesIO(payload), weights_only=True)
        if reply.get("restart"):  # a trusted module stood in for a broken one: start clean
            self.kill()
        if reply.get("ok"):
            return Reply("ok", result=reply["result"])
        return Reply("exception", error=reply["error"], log_tail=self.log_tail())

    def _receive(self, deadline: float) -> bytes | None:
        head = self._read(8, deadline)
        if head is None:
            return None
        return self._read(int.from_bytes(head, "little"), deadline)

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
        code = self.proc.wait(timeout=10) if self.proc else None
        reason = (
            f"killed by signal {signal.Signals(-code).name}"
            if code is not None and code < 0
            else f"exit code {code}"
        )
        self.kill()
        return Reply("crashed", error={"reason": reason}, log_tail=self.log_tail())

    def log_tail(self, n: int = 4000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, self.log_path.stat().st_size - n))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

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
