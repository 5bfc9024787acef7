"""Tests of `batch --shard K/N`: a class graded as N slices by separate processes sharing one
output folder (as N machines on a network file system would), then merged by the plain batch."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from submissions import HW, REPO, build

from grader import batch, cli
from grader.gradescope_metadata import METADATA

SHARDS = 3
ONLY = "test_utils.py"  # the hidden tests of utils.py: seconds per grading
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
# A Gradescope export: three copies of the reference (one a pair's), one damaged zip that the
# metadata leaves out. Their names fall in shards 3, 2, 1 and 1 of 3 (checked below).
SOLO, PAIR, THIRD, DAMAGED = (f"submission_28123456{i}" for i in (7, 8, 1, 2))
EXPORT = f"""\
{SOLO}:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1815'
    :email: ada@example.edu
  :created_at: 2024-03-01 17:04:05.123456000 -08:00
  :score: 0.0
  :history: []
{PAIR}:
  :submitters:
  - :name: Alan Turing
    :sid: '1912'
    :email: alan@example.edu
  - :name: Grace Hopper
    :sid: '1906'
    :email: grace@example.edu
  :created_at: 2024-03-01 18:00:00.000000000 -08:00
  :score: 0.0
  :history: []
{THIRD}:
  :submitters:
  - :name: Emmy Noether
    :sid: '1882'
    :email: emmy@example.edu
  :created_at: 2024-03-01 19:00:00.000000000 -08:00
  :score: 0.0
  :history: []
"""
PROGRESS = re.compile(r"^\[\d+/\d+\] (\S+): ", re.MULTILINE)  # one line per grading done


def make_export(folder: Path) -> Path:
    for student in (SOLO, PAIR, THIRD):
        build(folder / student)
    (folder / f"{DAMAGED}.zip").write_bytes(b"PK\x03\x04 cut off in the download")
    (folder / METADATA).write_text(EXPORT, encoding="utf-8")
    return folder


def start(subs: Path, out: Path, *extra: str) -> subprocess.Popen:
    """`python -m grader batch HW SUBS --out OUT --only test_utils.py --jobs 1 EXTRA`, started."""
    cmd = [sys.executable, "-m", "grader", "batch", HW, str(subs), "--out", str(out)]
    cmd += ["--only", ONLY, "--jobs", "1", *extra]
    return subprocess.Popen(
        cmd, cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen) -> str:
    """Its stderr, once it has exited 0."""
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    return stderr


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The export graded by 3 shard processes at once into one OUT, and, at the same time, by
    one plain batch into another folder (the one-machine run)."""
    root = tmp_path_factory.mktemp("shards")
    subs, out, alone = make_export(root / "export"), root / "out", root / "alone"
    assert [batch.shard_of(s, SHARDS) for s in (SOLO, PAIR, THIRD, DAMAGED)] == [2, 1, 3, 1], (
        "the test's names no longer cover every shard: choose others"
    )
    shards = {k: start(subs, out, "--shard", f"{k}/{SHARDS}") for k in range(1, SHARDS + 1)}
    one_machine = start(subs, alone)
    logs = {k: finish(p) for k, p in shards.items()}
    return {"subs": subs, "out": out, "alone": alone, "logs": logs, "one": finish(one_machine)}


def test_every_student_is_graded_exactly_once_by_its_shard(sharded):
    """Does each student get exactly one grading, by the shard its name hashes to, recorded in
    its batch.json, with each shard's rows in its own CSV and no class CSV yet?"""
    out = sharded["out"]
    graded_by: dict[str, list[int]] = {}
    for k, log in sharded["logs"].items():
        assert f"shard {k}/{SHARDS}: " in log  # the shard's summary says which shard it was
        for student in PROGRESS.findall(log):
            graded_by.setdefault(student, []).append(k)
    students = {SOLO, PAIR, THIRD, DAMAGED}
    assert graded_by == {s: [batch.shard_of(s, SHARDS)] for s in students}
    for s in students:
        marker = json.loads((out / s / "batch.json").read_text())
        assert marker["graded_by"]["shard"] == f"{batch.shard_of(s, SHARDS)}/{SHARDS}"
    for k in range(1, SHARDS + 1):
        rows = read_rows(out / f"grades.shard-{k}-of-{SHARDS}.csv")
        assert {r["student"] for r in rows} == {s for s in students if graded_by[s] == [k]}
    assert not (out / "grades.csv").exists()  # no shard writes the class's CSV


def test_the_plain_batch_afterwards_regrades_nobody_and_matches_one_machine(sharded):
    """Does the plain batch after the shards grade nobody, and is its CSV the one-machine run's
    (all but the seconds column), identities and partial statuses included?"""
    out, alone = sharded["out"], sharded["alone"]
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/batch.json")}
    merge = finish(start(sharded["subs"], out))
    assert "4 of 4 students already have up-to-date results" in merge
    assert PROGRESS.findall(merge) == []
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/batch.json")} == stamps

    def table(path: Path) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in read_rows(path)]

    merged = table(out / "grades.csv")
    assert merged == table(alone / "grades.csv")
    assert [(r["student"], r["name"], r["sid"]) for r in merged] == [
        (THIRD, "Emmy Noether", "1882"),
        (DAMAGED, "", ""),
        (SOLO, "Ada Lovelace", "1815"),
        (PAIR, "Alan Turing", "1912"),
        (PAIR, "Grace Hopper", "1906"),
    ]
    partial = f"partial: only {ONLY} ran (--only); not a grade"
    assert [r["status"] == partial for r in merged] == [True, False, True, True, True]
    assert merged[1]["status"].startswith("not graded:")
    assert f"submissions not in {METADATA}: 1 (first: {DAMAGED})" in merge


def test_slices_cover_the_class_once_and_stay_put_when_students_are_added(capsys):
    """Is every student in exactly one slice of N, the same one whatever the rest of the class,
    with slices of roughly equal size?"""
    names = [f"submission_{281000000 + 7919 * i}" for i in range(300)]
    for n in (1, 2, 3, 8):
        slices = {k: batch.select(dict.fromkeys(names), (k, n)) for k in range(1, n + 1)}
        assert sorted(s for part in slices.values() for s in part) == sorted(names)
        assert min(map(len, slices.values())) > 300 / n * 0.7  # binomial spread, not skew
    late = dict.fromkeys(["submission_100000000", "alice", "Zoë", "submission_999999999"])
    for k in range(1, 9):
        before = batch.select(dict.fromkeys(names), (k, 8))
        after = batch.select({**dict.fromkeys(names), **late}, (k, 8))
        assert [s for s in after if s not in late] == list(before)
    assert "shard 8/8: " in capsys.readouterr().err


def test_slices_are_the_same_in_every_process():
    """Does another Python process (another hash seed, as on another machine) put each student
    in the same slice?"""
    names = ["alice", "bob", "submission_281234567", "Zoë"]
    code = f"from grader.batch import shard_of; print([shard_of(s, 5) for s in {names!r}])"
    here = str([batch.shard_of(s, 5) for s in names])
    for seed in ("1", "2"):
        env = {**ENV, "PYTHONHASHSEED": seed}
        got = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True)
        assert got.stdout.decode().strip() == here, got.stderr.decode()


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "2/0", "-1/3"])
def test_a_shard_that_is_not_k_of_n_is_a_usage_error(text: str, capsys):
    """Is --shard outside 1..N, or not K/N, refused with exit status 2 and the remedy?"""
    with pytest.raises(SystemExit) as stop:
        cli.main(["batch", HW, "subs", "--shard", text])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--shard" in err and ("K/N" in err or "1..N" in err)


def test_an_unreadable_metadata_file_leaves_identities_empty_and_says_so(tmp_path, capsys):
    """Does a damaged submission_metadata.yml give empty identity columns and a warning that
    says how to fix it, instead of stopping the batch?"""
    (tmp_path / METADATA).write_text("submission_1: [unclosed\n")
    assert batch.identities(tmp_path, {"submission_1": tmp_path}) == {}
    err = capsys.readouterr().err
    assert "not valid YAML" in err and "fix the file and rerun" in err
