"""Reference statistics computed once, at build time, never per grading.

The hidden tests compare the student's outputs with statistics of the reference on the shipped
weights and fixed seeds (hundreds of reference calls per test). Those numbers depend only on
files of the repository, so they are computed once and stored in grader/<hw>/reference_cache.pt,
per hidden test module, with a fingerprint: a hash of every file the module's values can
depend on (the module itself, the harness and weights, the reference solution) and of torch's
version. A grading uses a stored value only while its module's fingerprint still matches;
otherwise it computes the value as before (and a project test fails until the cache is
rebuilt), so a stale cache can never be used.

    python -m grader.refcache build [HW ...]   # grade each reference once and store the values

Setting VAECOURSE_REFCACHE=off computes every value afresh (benchmarks/bench_grading.py
compares both paths).
"""

import argparse
import functools
import hashlib
import inspect
import os
import sys
import threading

import torch

from grader import homeworks

CACHE_NAME = "reference_cache.pt"
ENV_SWITCH = "VAECOURSE_REFCACHE"  # "off": never read the stored values
_lock = threading.Lock()
_stores: dict[str, "Store"] = {}


class Store:
    """The stored values of one homework, per hidden test module, and those computed since.

    A module's stored values are used only while its fingerprint (see `fingerprint`) is the
    one they were stored under; otherwise they are computed afresh.
    """

    def __init__(self, hw: str, use_stored: bool = True):
        self.hw = hw
        self.path = homeworks.get(hw).tests / CACHE_NAME
        self.stored: dict[str, dict] = {}  # module -> {"fingerprint": ..., "values": {...}}
        self.values: dict[str, dict[str, object]] = {}  # module -> key -> value, in use
        use_stored = use_stored and os.environ.get(ENV_SWITCH, "on") != "off"
        if use_stored and self.path.is_file():
            self.stored = torch.load(self.path, weights_only=True).get("modules", {})

    def module(self, name: str) -> dict[str, object]:
        """The values of hidden test module `name` (stored ones only if still current)."""
        if name not in self.values:
            entry = self.stored.get(name, {})
            current = entry.get("fingerprint") == fingerprint(self.hw, name)
            self.values[name] = dict(entry.get("values", {})) if current else {}
        return self.values[name]

    def stale(self, name: str) -> bool:
        """Whether module `name` has no stored values built from the files as they are now."""
        entry = self.stored.get(name, {})
        return not entry.get("values") or entry.get("fingerprint") != fingerprint(self.hw, name)

    def save(self) -> None:
        """Write every value held now, each module under its current fingerprint."""
        modules = {
            name: {"fingerprint": fingerprint(self.hw, name), "values": dict(sorted(v.items()))}
            for name, v in sorted(self.values.items())
            if v
        }
        tmp = self.path.with_suffix(".tmp")
        torch.save({"modules": modules}, tmp)
        os.replace(tmp, self.path)


def store(hw: str) -> Store:
    """The (process-wide) store of homework `hw`."""
    with _lock:
        if hw not in _stores:
            _stores[hw] = Store(hw)
        return _stores[hw]


@functools.cache
def fingerprint(hw: str, module: str) -> str:
    """sha256 of what the stored values of hidden test module `module` (e.g. 'test_q2') can
    depend on: that module, the homework's other hidden-test files that are not test modules
    (harness, conftest, weights), the reference solution's Python files, and torch's
    major.minor version. Another test module, the full tier's calibration and the cache itself
    are left out, so that editing them keeps the module's values."""
    homework = homeworks.get(hw)
    files = [
        p
        for p in homework.tests.rglob("*")
        if p.name != CACHE_NAME
        and "calibration" not in p.relative_to(homework.tests).parts
        and (not p.name.startswith("test_") or p.name == f"{module}.py")
    ]
    files += list(homework.solution.rglob("*.py"))
    digest = hashlib.sha256(".".join(torch.__version__.split(".")[:2]).encode())
    for path in sorted(p for p in files if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(homeworks.ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def cached(fn):
    """Decorate a pure function of constants that computes reference values (tensors, numbers,
    and lists, tuples and dicts of them): its results come from the homework's stored cache
    when it is current, else they are computed (once per process, like functools.cache)."""
    hw, module = fn.__module__.split(".")[1], fn.__module__.rsplit(".", 1)[-1]  # grader.<hw>.<m>
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()  # f(a) and f(a, b=default) are one value
        key = f"{fn.__qualname__}{tuple(bound.arguments.values())!r}"
        values = store(hw).module(module)
        if key not in values:
            values[key] = fn(*bound.args, **bound.kwargs)
        return values[key]

    return wrapper


def build(hw: str) -> int:
    """Grade the reference of `hw` on the quick tier with every value computed afresh, then
    store the values it used. Returns the number of values stored."""
    from grader import run  # the grading machinery: only the build needs it

    with _lock:
        _stores[hw] = fresh = Store(hw, use_stored=False)
    result = run.main(hw, homeworks.get(hw).solution, tier="quick")
    if result.total != result.possible or not result.tests:
        raise SystemExit(f"{hw}'s reference scored {result.total}/{result.possible}: fix it first")
    fresh.save()
    return sum(len(v) for v in fresh.values.values())


def main(argv: list[str] | None = None) -> int:
    """`python -m grader.refcache build [HW ...]`."""
    p = argparse.ArgumentParser(prog="python -m grader.refcache", description=__doc__)
    p.add_argument("command", choices=("build",))
    p.add_argument("homework", nargs="*", help="default: every homework")
    args = p.parse_args(argv)
    for hw in args.homework or list(homeworks.HOMEWORKS):
        count = build(hw)
        print(f"{hw}: stored {count} reference values in grader/{hw}/{CACHE_NAME}")
    return 0


if __name__ == "__main__":  # run the importable module's main: the tests' wrappers use its stores
    from grader.refcache import main as module_main

    sys.exit(module_main())
