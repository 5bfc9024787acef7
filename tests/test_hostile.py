"""Hostile and broken submissions (tests/hostile.py) are contained, and each gets a verdict."""

import ast
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from hostile import CANARY, CASES, KEEP, REPO, RESULTS, SECRETS_TEXT, grade
from submissions import scores_by_item

from grader.messages import Import, Ping
from grader.serialize import table

TRACKED = subprocess.run(
    ["git", "ls-files", "-s", "grader", "solutions", "README.md"],
    cwd=REPO,
    capture_output=True,
    text=True,
).stdout


def stray_processes(wait: float = 10.0) -> list[str]:
    """Processes of the unprivileged worker user still alive after `wait` seconds.

    None may outlive a grading; the kernel takes a moment to reap a killed PID namespace.
    """
    if os.geteuid() != 0:
        return []
    deadline = time.monotonic() + wait
    while True:
        out = subprocess.run(
            ["ps", "-u", "65534", "-o", "pid=,stat=,cmd="], capture_output=True, text=True
        ).stdout.split("\n")[:-1]
        if not out or time.monotonic() > deadline:
            return out
        time.sleep(0.2)


@pytest.fixture(scope="module")
def isolated(tmp_path_factory) -> bool:
    """Does the worker get its namespaces and the unprivileged user on this machine?"""
    from grader import homeworks
    from grader.sandbox import Sandbox
    from grader.submission import stage

    staged = stage(
        homeworks.get("hw_gmvae_iwae_ssvae"),
        REPO / "hw_gmvae_iwae_ssvae",
        tmp_path_factory.mktemp("ping"),
    )
    sandbox = Sandbox(staged.tree)
    try:
        facts = sandbox.call(Ping()).result.isolation
    finally:
        sandbox.close()
    return facts["user"] == "uid 65534" and "pid" in facts["namespaces"]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_submission_is_contained(case, tmp_path, isolated):
    """Does the attack end in its verdict, with the other items graded and nothing damaged?"""
    if case.isolated and not isolated:  # a native fork bomb as root with no namespace: unsafe
        pytest.skip("needs the worker's namespaces and user change (run the tests as root)")
    results = Path(RESULTS)  # the path the cases try to overwrite and delete
    results.write_text("stale")
    Path(KEEP).write_text("keep")
    result = grade(case, tmp_path, results)
    shown = table(result) + "\nnotes: " + "; ".join(result.notes)

    payload = json.loads(results.read_text())  # written, and by the grader
    assert payload["score"] == result.total, shown
    if not case.graded:
        assert not result.tests and result.total == 0, shown
    scores = scores_by_item(result)
    assert all(t.status != "error" for t in result.tests), shown  # no error of the grader
    for item in case.lose:
        assert scores[item][0] < scores[item][1], shown
        failed = [t.output for t in result.tests if t.item == item and t.status != "passed"]
        phrases = (case.verdict,) if isinstance(case.verdict, str) else case.verdict
        assert any(v in output for v in phrases for output in failed), shown
    keep = () if not case.graded else case.keep if case.lose else tuple(scores)
    for item in (i for i in keep if i not in case.lose):
        assert scores[item][0] == scores[item][1] > 0, shown
    if case.note:
        assert any(case.note in n for n in result.notes), shown

    text = results.read_text()
    assert not any(secret in text for secret in SECRETS_TEXT), "a secret reached the results"
    assert not Path(CANARY).exists()
    assert Path(KEEP).read_text() == "keep"
    after = subprocess.run(
        ["git", "ls-files", "-s", "grader", "solutions", "README.md"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout
    assert after == TRACKED
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "grader", "solutions", "README.md"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout
    assert "D " not in dirty and not dirty.startswith(" D"), dirty
    assert not (stray := stray_processes()), stray


PROBE = """
import os, socket
def attempt(action):
    try:
        action()
        return "done"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
results = {
    "read": attempt(lambda: open(SECRET).read()),
    "network": attempt(lambda: socket.create_connection(("127.0.0.1", 9), timeout=1)),
    "process": attempt(lambda: os.system("true")),
    "write": attempt(lambda: open(CANARY, "w").write("x")),
    "signal": attempt(lambda: os.kill(GRADER, 0)),
}
raise RuntimeError(repr(results))
"""


@pytest.mark.parametrize("isolate", [True, False], ids=["namespaces", "hook-only"])
def test_worker_refuses_with_or_without_namespaces(isolate, tmp_path):
    """Are reads of the grader, network, processes, writes and signals refused, namespaces or not?

    Without root (or with isolation off), the audit hook of the worker is the only line; it must
    refuse the same things with the same messages.
    """
    from hostile import SECRET_TEST

    from grader import homeworks
    from grader.sandbox import Limits, Sandbox
    from grader.submission import stage

    staged = stage(homeworks.get("hw_gmvae_iwae_ssvae"), REPO / "hw_gmvae_iwae_ssvae", tmp_path)
    source = f"SECRET, CANARY, GRADER = {str(SECRET_TEST)!r}, {CANARY!r}, {os.getpid()}\n" + PROBE
    (staged.tree / "probe.py").write_text(source)
    sandbox = Sandbox(staged.tree, Limits(isolate=isolate, timeout=30))
    try:
        facts = sandbox.call(Ping()).result.isolation
        reply = sandbox.call(Import(("probe",)))
    finally:
        sandbox.close()
    outcomes = ast.literal_eval(reply.result.errors["probe"].message)
    for action in ("read", "network", "process", "write", "signal"):
        assert outcomes[action].startswith("PermissionError"), outcomes
    assert not Path(CANARY).exists()
    if isolate and os.geteuid() == 0:  # namespaces, unless the kernel refused them (recorded)
        namespaces = "network" in facts["namespaces"] and facts["user"] == "uid 65534"
        assert namespaces or facts["namespaces"].startswith("unavailable"), facts
    else:
        assert facts["user"] == "unchanged", facts


# The sandbox is shared by the three homeworks: the same attack on hw_vae and hw_svhn must be
# refused too (their hidden tests are other folders under grader/), with only its item lost.
ATTACK = """
    try:
        open({canary!r}, "w").write("x")
    except OSError:
        pass
    open({secret!r}).read()
"""
OTHER_HOMEWORKS = {
    "hw_vae": (
        "q1_solution.py",
        "def log_mean_exp(y: torch.Tensor) -> torch.Tensor:\n",
        "test_q1.py",
        "1.3",
    ),
    "hw_svhn": (
        "svhn_vae/flow.py",
        "def causal_mask(mask_type: str, kernel_size: int) -> torch.Tensor:\n",
        "test_flow.py",
        "2.1",
    ),
}


@pytest.mark.parametrize("hw", sorted(OTHER_HOMEWORKS))
def test_other_homeworks_hidden_tests_are_out_of_reach(hw, tmp_path):
    """A function of hw_vae or hw_svhn that reads its hidden test file (after quietly trying
    to write outside) loses its own item with a PermissionError; every other item is intact."""
    from submissions import build

    from grader import run

    file, anchor, tests, item = OTHER_HOMEWORKS[hw]
    secret = REPO / "grader" / hw / tests
    attack = anchor + ATTACK.format(canary=CANARY, secret=str(secret))
    submission = build(tmp_path / "submission", {file: (anchor, attack)}, hw=hw)
    result = run.main(
        hw,
        submission,
        pytest_args=("-o", f"python_files={tests}"),
        results=tmp_path / "results.json",
    )
    shown = table(result)
    scores = scores_by_item(result)
    assert all(t.status != "error" for t in result.tests), shown
    assert scores[item][0] == 0 < scores[item][1], shown
    assert all("PermissionError" in t.output for t in result.tests if t.item == item), shown
    assert all(got == top > 0 for i, (got, top) in scores.items() if i != item), shown
    assert secret.read_text().splitlines()[0] not in (tmp_path / "results.json").read_text()
    assert not Path(CANARY).exists()
