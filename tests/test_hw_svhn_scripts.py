"""Smoke tests of hw_svhn's run scripts: --dry-run trains a few steps on the SVHN subset and
saves its outputs, apart from a real run's; --grid and --explore redraw the pictures from what
the dry run saved."""

import os
import subprocess
import sys
from pathlib import Path

from dry_runs import run_dry

REPO = Path(__file__).resolve().parent.parent
HW = REPO / "solutions" / "hw_svhn"


def env(data_root: Path) -> dict:
    return dict(
        os.environ,
        VAECOURSE_DATA=str(data_root),
        PYTHONPATH=str(REPO),
        OMP_NUM_THREADS="1",
        MPLBACKEND="Agg",
    )


def run(args: list, cwd: Path, data_root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env(data_root),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_run_fsvae_dry_run_and_grid(tmp_path, data_root):
    """Does `run_fsvae.py --dry-run` train, save a checkpoint and the grid under the run name +
    _dryrun (a real run's left as they were), and `--grid` redraw?"""
    proc = run_dry(HW / "run_fsvae.py", cwd=tmp_path, env=env(data_root))
    assert "labels are random" in proc.stdout and "Final training NELBO" in proc.stdout
    (checkpoint,) = (tmp_path / "checkpoints").glob("*_dryrun/model-*.pt")
    assert list((tmp_path / "samples").glob(f"{checkpoint.parent.name}-*.png"))
    proc = run([str(HW / "run_fsvae.py"), "--grid", str(checkpoint)], tmp_path, data_root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "samples" / f"{checkpoint.parent.name}-grid.png").exists()


def test_q3_train_dry_run_and_explore(tmp_path, data_root):
    """Does `q3_train.py --dry-run` train on the subset and save wgan.pt and the 3 pictures in
    q3_results_dryrun/, leaving a real run's q3_results/ as it was?"""
    out = tmp_path / "q3_results_dryrun"
    proc = run_dry(HW / "q3_train.py", cwd=tmp_path, env=env(data_root))
    assert out.name in proc.stdout
    pictures = {"samples.png", "perturbations.png", "interpolations.png"}
    assert {p.name for p in out.iterdir()} == pictures | {"wgan.pt"}
    again = tmp_path / "again"
    proc = run(
        [str(HW / "q3_train.py"), "--explore", str(out / "wgan.pt"), "--out", str(again)],
        tmp_path,
        data_root,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {p.name for p in again.iterdir()} == pictures
