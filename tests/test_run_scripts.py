"""Smoke tests: every run script and benchmark works end to end with --dry-run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HW = REPO / "solutions" / "hw_gmvae_iwae_ssvae"
EXPECTED = {
    "run_vae.py": ["Negative IWAE-1000", "Saved 200 samples"],
    "run_gmvae.py": ["Negative IWAE-1000", "Saved 200 samples"],
    "run_ssvae.py": ["Test set classification accuracy"],
}


def run(cmd: list, cwd: Path, data_root: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, VAECOURSE_DATA=str(data_root), PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, *cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_run_script_dry_run(script, tmp_path, data_root):
    """Does `python SCRIPT --dry-run --train 2` train one step, evaluate and save its outputs?"""
    args = [str(HW / script), "--dry-run"] + (["--train", "2"] if script != "run_ssvae.py" else [])
    proc = run(args, tmp_path, data_root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for text in EXPECTED[script]:
        assert text in proc.stdout, proc.stdout[-2000:]
    if script != "run_ssvae.py":
        assert list((tmp_path / "samples").glob("*.png")), "no sample grid was saved"


def test_training_benchmark_dry_run(data_root):
    """Does the training benchmark run and print its JSON line?"""
    proc = run([str(REPO / "benchmarks" / "bench_training.py"), "--dry-run"], REPO, data_root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '"benchmark": "training"' in proc.stdout.splitlines()[-1]


def test_q2_sweep_dry_run(tmp_path):
    """Does hw_vae's `q2_sweep.py --dry-run` train 2 x 2 critics and save both plots and JSON?"""
    script = REPO / "solutions" / "hw_vae" / "q2_sweep.py"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, str(script), "--dry-run", "--out", str(tmp_path)],
        cwd=script.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {p.name for p in tmp_path.iterdir()} == {
        "hellinger.png",
        "wasserstein.png",
        "estimates.json",
    }
    estimates = json.loads((tmp_path / "estimates.json").read_text())
    assert estimates["theta"] == [0.0, 1.0]
    assert len(estimates["hellinger"]) == len(estimates["wasserstein"]) == 2
