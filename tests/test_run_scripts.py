"""Smoke tests: every run script and benchmark works end to end with --dry-run, and leaves the
outputs of a real run alone."""

import json
import os
from pathlib import Path

import pytest
from dry_runs import run_dry

REPO = Path(__file__).resolve().parent.parent
HW = REPO / "solutions" / "hw_gmvae_iwae_ssvae"
EXPECTED = {
    "run_vae.py": ["Negative IWAE-1000", "Saved 200 samples"],
    "run_gmvae.py": ["Negative IWAE-1000", "Saved 200 samples"],
    "run_ssvae.py": ["Test set classification accuracy"],
}


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_run_script_dry_run(script, tmp_path, data_root):
    """Does `python SCRIPT --dry-run --train 2` train one step, evaluate and save its outputs
    under the run's name + _dryrun, leaving a real run's checkpoints and samples as they were?"""
    args = ["--train", "2"] if script != "run_ssvae.py" else []
    env = dict(os.environ, VAECOURSE_DATA=str(data_root))
    proc = run_dry(HW / script, *args, cwd=tmp_path, env=env)
    for text in EXPECTED[script] + ["_dryrun"]:
        assert text in proc.stdout, proc.stdout[-2000:]
    (checkpoint,) = (tmp_path / "checkpoints").glob("*_dryrun/model-00001.pt")
    if script != "run_ssvae.py":
        assert (tmp_path / "samples" / f"{checkpoint.parent.name}.png").is_file()


def test_training_benchmark_dry_run(tmp_path, data_root):
    """Does the training benchmark run, print its JSON line and write no file?"""
    env = dict(os.environ, VAECOURSE_DATA=str(data_root))
    proc = run_dry(REPO / "benchmarks" / "bench_training.py", cwd=tmp_path, env=env)
    assert '"benchmark": "training"' in proc.stdout.splitlines()[-1]
    assert list(tmp_path.iterdir()) == []


def test_q2_sweep_dry_run(tmp_path):
    """Does hw_vae's `q2_sweep.py --dry-run` train 2 x 2 critics and save both plots and JSON in
    q2_results_dryrun/, leaving a real run's q2_results/ as it was?"""
    script = REPO / "solutions" / "hw_vae" / "q2_sweep.py"
    proc = run_dry(script, cwd=tmp_path, env=dict(os.environ, OMP_NUM_THREADS="1"))
    out = tmp_path / "q2_results_dryrun"
    assert str(out.name) in proc.stdout
    assert {p.name for p in out.iterdir()} == {
        "hellinger.png",
        "wasserstein.png",
        "estimates.json",
    }
    estimates = json.loads((out / "estimates.json").read_text())
    assert estimates["theta"] == [0.0, 1.0]
    assert len(estimates["hellinger"]) == len(estimates["wasserstein"]) == 2
