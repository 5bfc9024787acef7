"""Tests of grader/sandbox.py's limits: a call's timeout counts the time its worker could run,
so a busy machine does not turn a pass into a timeout, while hangs still time out."""

import multiprocessing
import os
import time

import pytest

from grader.messages import Call
from grader.sandbox import Limits, Sandbox

WORK = '''
import time

import torch


def spin(seconds):
    """Burn `seconds` of CPU time of this process, then return how long that took."""
    start, wall = time.process_time(), time.time()
    while time.process_time() - start < seconds:
        pass
    return torch.tensor(time.time() - wall)


def nap(seconds):
    time.sleep(seconds)


def crowd(children):
    """Start `children` processes that spin forever (libc's fork, past Python's hooks), and
    spin too: every process of the worker's session is queued most of the time."""
    import ctypes

    libc = ctypes.CDLL(None)
    for _ in range(int(children)):
        if libc.fork() == 0:
            break
    while True:
        pass
'''


def burn(stop_at: float) -> None:
    """Spin until `stop_at`, in a session of its own: the kernel may share the cores between
    sessions (autogroup) first, and the worker runs in its own session too."""
    os.setsid()
    while time.time() < stop_at:
        pass


@pytest.fixture
def sandbox(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "work.py").write_text(WORK)
    box = Sandbox(tree, Limits(timeout=30))
    yield box
    box.close()


def call(sandbox: Sandbox, name: str, seconds: float, timeout: float):
    """The outcome of work.<name>(seconds) with `timeout`, and its wall time."""
    start = time.monotonic()
    outcome = sandbox.call(Call(f"work:{name}", args=(seconds,)), timeout)
    return outcome, time.monotonic() - start


def test_a_call_is_not_charged_for_waiting_on_a_busy_machine(sandbox):
    """With eight processes spinning on the two cores, does 2 s of CPU work pass a 3 s timeout
    although it takes far longer than 3 s of wall time?"""
    assert call(sandbox, "spin", 0.1, 30)[0].ok  # the worker is up before the load starts
    context = multiprocessing.get_context("fork")
    load = [context.Process(target=burn, args=(time.time() + 60,)) for _ in range(8)]
    for p in load:
        p.start()
    try:
        outcome, wall = call(sandbox, "spin", 2.0, 3)
    finally:
        for p in load:
            p.terminate()
            p.join()
    assert outcome.ok, outcome.student_message()
    if wall <= 3:
        pytest.skip(f"the load did not slow the call down ({wall:.1f} s): nothing was shown")


def test_a_sleeping_call_still_times_out(sandbox):
    """Is a call that sleeps (waiting, not computing) charged, and stopped at its timeout?"""
    outcome, wall = call(sandbox, "nap", 60, 3)
    assert outcome.status == "timeout" and "timed out after 3 s" in outcome.student_message()
    assert wall < 10


def test_an_endless_loop_times_out(sandbox):
    """Does a call that never returns time out at its timeout, and the worker come back?"""
    outcome, _ = call(sandbox, "spin", 10**6, 3)
    assert outcome.status == "timeout"
    assert call(sandbox, "spin", 0.1, 30)[0].ok


def test_processes_a_call_starts_do_not_stretch_its_timeout(sandbox):
    """A call that starts 16 spinning processes keeps each of them queued most of the time:
    is it still stopped about when its processes have used its 3 s of CPU time, not after
    WALL_FACTOR x 3 s (before, it was charged only its queued-free wall time, 2/17 of it)?"""
    assert call(sandbox, "spin", 0.1, 30)[0].ok
    outcome, wall = call(sandbox, "crowd", 16, 3)
    assert outcome.status == "timeout", outcome
    assert wall < 12, f"a call that crowds the cores ran {wall:.1f} s against a 3 s timeout"
