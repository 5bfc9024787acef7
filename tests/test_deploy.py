"""Tests of deploy/: the Slurm job array and the Kubernetes Indexed Job that grade a class in
shards. No cluster runs here: each script or pod command is run with the scheduler's
environment variables set by hand and a stand-in for Python that records the command line it
was given, which the grader's own parser then reads."""

import os
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from submissions import REPO

from grader import cli, homeworks

SLURM = REPO / "deploy" / "slurm"
KUBE = REPO / "deploy" / "kubernetes"
RECORDER = '#!/bin/sh\nprintf "%s\\n" "$@" > "$RECORD"\n'  # writes its arguments, one a line


@pytest.fixture
def recorder(tmp_path: Path) -> dict:
    """Environment in which `python` (and VAECOURSE_PYTHON) only records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python", "sbatch"):
        (bin_dir / name).write_text(RECORDER)
        (bin_dir / name).chmod(0o755)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "RECORD": str(tmp_path / "argv"),
        "VAECOURSE_PYTHON": str(bin_dir / "python"),
        "VAECOURSE_REPO": str(REPO),
    }


def recorded(env: dict) -> list[str]:
    return Path(env["RECORD"]).read_text().splitlines()


def batch_args(argv: list[str]) -> dict:
    """What `python -m grader ARGV...` would run, as the grader's parser reads it."""
    assert argv[:2] == ["-m", "grader"], argv
    return vars(cli.parser().parse_args(argv[2:]))


def run(cmd: list[str], env: dict, **extra) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    return subprocess.run(cmd, env={**base, **env, **extra}, capture_output=True, text=True)


@pytest.mark.parametrize("script", ["grade.sbatch", "merge.sbatch", "submit.sh"])
def test_slurm_scripts_are_valid_bash(script: str):
    """Does bash parse each Slurm script, and is it executable?"""
    path = SLURM / script
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
    assert os.access(path, os.X_OK)


def test_an_array_task_grades_its_shard(recorder: dict):
    """Does array task K of N run `batch --shard K/N` with one grading per CPU of the task, and
    does a rerun of one task alone take N from VAECOURSE_SHARDS?"""
    cmd = ["bash", str(SLURM / "grade.sbatch"), "hw_vae", "subs", "--out", "grades"]
    slurm = {"SLURM_ARRAY_TASK_COUNT": "3", "SLURM_CPUS_PER_TASK": "4"}
    proc = run(cmd + ["--tier", "full"], recorder, SLURM_ARRAY_TASK_ID="2", **slurm)
    assert proc.returncode == 0, proc.stderr
    args = batch_args(recorded(recorder))
    assert (args["command"], args["homework"], str(args["submissions"])) == (
        "batch",
        "hw_vae",
        "subs",
    )
    assert (args["shard"], args["jobs"], args["tier"], str(args["out"])) == (
        (2, 3),
        4,
        "full",
        "grades",
    )
    alone = {"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "1", "VAECOURSE_SHARDS": "4"}
    assert run(cmd, recorder, **alone).returncode == 0
    assert batch_args(recorded(recorder))["shard"] == (3, 4)


def test_an_array_from_zero_is_refused_with_the_remedy(recorder: dict):
    """Is an array numbered from 0 (or run outside an array) refused, saying what to submit?"""
    cmd = ["bash", str(SLURM / "grade.sbatch"), "hw_vae", "subs"]
    proc = run(cmd, recorder, SLURM_ARRAY_TASK_ID="0", SLURM_ARRAY_TASK_COUNT="3")
    assert proc.returncode == 2 and "--array=1-3" in proc.stderr
    proc = run(cmd, recorder)
    assert proc.returncode != 0 and "sbatch --array=1-N" in proc.stderr
    assert not Path(recorder["RECORD"]).exists()  # the grader never started


def test_the_merge_job_is_the_plain_batch(recorder: dict):
    """Does merge.sbatch run the batch command without --shard, with the same options?"""
    cmd = ["bash", str(SLURM / "merge.sbatch"), "hw_vae", "subs", "--out", "grades"]
    assert run(cmd + ["--only", "test_utils.py"], recorder, SLURM_CPUS_PER_TASK="2").returncode == 0
    args = batch_args(recorded(recorder))
    assert (args["shard"], args["jobs"], args["only"]) == (None, 2, ["test_utils.py"])


def test_submit_queues_the_array_then_the_merge_after_it(recorder: dict, tmp_path: Path):
    """Does submit.sh queue an array 1-N of grade.sbatch, then merge.sbatch depending on the
    whole array, each with the grader's arguments?"""
    log = tmp_path / "sbatch.log"
    fake = f'#!/bin/sh\necho "$*" >> {log}\necho "4242;cluster"\n'
    (Path(recorder["PATH"].split(os.pathsep)[0]) / "sbatch").write_text(fake)
    proc = run(["bash", str(SLURM / "submit.sh"), "5", "hw_vae", "subs", "--out", "o"], recorder)
    assert proc.returncode == 0, proc.stderr
    first, second = log.read_text().splitlines()
    assert first == f"--parsable --array=1-5 {SLURM / 'grade.sbatch'} hw_vae subs --out o"
    assert second == (
        f"--parsable --dependency=afterany:4242 {SLURM / 'merge.sbatch'} hw_vae subs --out o"
    )


def manifests() -> dict[str, dict]:
    """{kind/name: document} of every manifest in deploy/kubernetes."""
    docs = [d for f in sorted(KUBE.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text())]
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in docs}


def test_kubernetes_manifests_fit_together():
    """Is the grading an Indexed Job with one completion per shard, every pod on the one
    ReadWriteMany claim, with CPU (-> --jobs) and memory set?"""
    m = manifests()
    assert set(m) == {
        "PersistentVolumeClaim/vaecourse-grading",
        "Pod/vaecourse-files",
        "ConfigMap/vaecourse-grading",
        "Job/vaecourse-grade",
        "Job/vaecourse-merge",
    }
    grade = m["Job/vaecourse-grade"]["spec"]
    assert grade["completionMode"] == "Indexed"
    assert grade["completions"] == int(m["ConfigMap/vaecourse-grading"]["data"]["SHARDS"])
    assert 1 <= grade["parallelism"] <= grade["completions"]
    assert "ReadWriteMany" in m["PersistentVolumeClaim/vaecourse-grading"]["spec"]["accessModes"]
    for name in ("Pod/vaecourse-files", "Job/vaecourse-grade", "Job/vaecourse-merge"):
        pod = m[name]["spec"].get("template", {}).get("spec") or m[name]["spec"]
        claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]]
        assert claims == ["vaecourse-grading"]
    for name in ("Job/vaecourse-grade", "Job/vaecourse-merge"):
        pod = m[name]["spec"]["template"]["spec"]
        assert pod["restartPolicy"] == "Never"
        (box,) = pod["containers"]
        jobs = next(e for e in box["env"] if e["name"] == "JOBS")["valueFrom"]["resourceFieldRef"]
        assert jobs == {"containerName": box["name"], "resource": "requests.cpu"}
        assert box["resources"]["limits"]["memory"] == box["resources"]["requests"]["memory"]


@pytest.mark.parametrize("index, shard", [(0, (1, 4)), (3, (4, 4))])
def test_a_pod_of_the_indexed_job_grades_its_shard(recorder: dict, index: int, shard: tuple):
    """Does the pod with completion index I run shard I+1 of SHARDS, with the ConfigMap's
    homework, tier and options, and the merge pod the same command without --shard?"""
    m = manifests()
    settings = {**m["ConfigMap/vaecourse-grading"]["data"], "OPTIONS": "--only test_utils.py"}
    env = {**recorder, **settings, "JOBS": "2", "JOB_COMPLETION_INDEX": str(index)}
    for job, want in (("Job/vaecourse-grade", shard), ("Job/vaecourse-merge", None)):
        (box,) = m[job]["spec"]["template"]["spec"]["containers"]
        proc = run([*box["command"], *box["args"]], env)
        assert proc.returncode == 0, proc.stderr
        args = batch_args(recorded(recorder))
        assert (args["homework"], args["tier"], args["shard"]) == (settings["HW"], "quick", want)
        assert (args["jobs"], args["only"]) == (2, ["test_utils.py"])
        assert str(args["submissions"]) == "/grading/submissions"


def test_the_image_holds_what_grading_reads():
    """Does deploy/Dockerfile copy the grader, coursekit, the reference solutions and every
    homework's student folder, from paths that exist?"""
    lines = (REPO / "deploy" / "Dockerfile").read_text().splitlines()
    copied = {shlex.split(line)[1] for line in lines if line.startswith("COPY ")}
    assert all((REPO / src).exists() for src in copied), copied
    needed = {"grader", "coursekit", "solutions", "requirements.txt", ".ci/constraints.txt"}
    assert needed | set(homeworks.HOMEWORKS) <= copied
