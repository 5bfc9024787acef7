"""hw_vae Parts 4 and 5: the 2-D data sets are the handout's, and both run scripts' --dry-run
train, evaluate and save every picture, apart from a real run's."""

import json
import os
import sys
from pathlib import Path

import numpy as np
from dry_runs import run_dry

REPO = Path(__file__).resolve().parent.parent
HW = REPO / "solutions" / "hw_vae"


def vae2d():
    sys.path.insert(0, str(HW))
    try:
        import vae2d as module
    finally:
        sys.path.remove(str(HW))
    return module


def test_data_sets_1_and_2_are_the_handouts():
    """Are data sets 1 and 2 (1, 2) + N(0, diag(25, 1)), the second turned by 45 degrees?"""
    module = vae2d()
    one, two = module.sample_data_1(), module.sample_data_2()
    assert one.shape == two.shape == (100000, 2)
    assert np.allclose(one.mean(0), [1, 2], atol=0.05) and np.allclose(
        two.mean(0), [1, 2], atol=0.05
    )
    assert np.allclose(one.std(0), [5, 1], rtol=0.01)
    cov = np.cov(two.T)  # a 45-degree turn of diag(25, 1): 13 on the diagonal, 12 off it
    assert np.allclose(cov, [[13, 12], [12, 13]], rtol=0.02)
    # the same seed-0 noise: turned back, data set 2 is data set 1 exactly
    c = np.sqrt(0.5)
    back = (two - [1, 2]) @ np.array([[c, -c], [c, c]]) + [1, 2]
    assert np.allclose(back, one)


def test_data_set_3_is_three_labelled_clusters():
    """Does data set 3 hold 3 x 33333 shuffled points: two blobs and a noisy half ellipse?"""
    x, y = vae2d().sample_data_3()
    assert x.shape == (99999, 2) and y.shape == (99999,)
    assert np.bincount(y).tolist() == [33333] * 3
    assert len(set(y[:30].tolist())) == 3  # shuffled
    assert np.allclose(x[y == 0].mean(0), [-1.5, 2.5], atol=0.01)
    assert np.allclose(x[y == 1].std(0), [0.2, 0.2], atol=0.01)
    arc = x[y == 2]
    assert abs(arc[:, 0].mean()) < 0.02 and -0.7 < arc[:, 1].mean() < -0.6  # -2/pi on average


def test_run_vae2d_dry_run(tmp_path):
    """Does `run_vae2d.py --dry-run` train the 5 models, print the numbers and save 5 PNGs in
    vae2d_results_dryrun/, leaving a real run's vae2d_results/ as it was?"""
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = run_dry(HW / "run_vae2d.py", cwd=tmp_path, env=env)
    out = tmp_path / "vae2d_results_dryrun"
    assert out.name in proc.stdout
    assert proc.stdout.count("Part A, data set") == 4
    assert "negative IWAE with 100 samples" in proc.stdout
    pictures = {
        "partA_curves.png",
        "partA_samples.png",
        "partB_curves.png",
        "partB_samples.png",
        "partB_latents.png",
    }
    assert {p.name for p in out.iterdir()} == pictures | {"results.json"}
    results = json.loads((out / "results.json").read_text())
    assert set(results["A"]) == {"data1_diagonal", "data1_scalar", "data2_diagonal", "data2_scalar"}
    assert {"iwae_1", "iwae_100", "test"} <= set(results["B"])


def test_run_conv_vae_dry_run(tmp_path, data_root):
    """Does `run_conv_vae.py --dry-run` train, report nats and bits/dim, and save 3 PNGs in
    conv_vae_results_dryrun/, leaving a real run's conv_vae_results/ as it was?"""
    env = dict(os.environ, VAECOURSE_DATA=str(data_root), OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = run_dry(HW / "run_conv_vae.py", cwd=tmp_path, env=env)
    out = tmp_path / "conv_vae_results_dryrun"
    assert "Test negative ELBO" in proc.stdout and "bits/dim" in proc.stdout
    assert out.name in proc.stdout
    assert {p.name for p in out.iterdir()} == {
        "curves.png",
        "samples.png",
        "interpolations.png",
        "history.json",
        "conv_vae.pt",
    }
    history = json.loads((out / "history.json").read_text())
    test = history["test"]
    # bits/dim of 8-bit pixels: nelbo / (784 ln 2) + 8 (the 1/256 scaling of the dequantization)
    assert abs(test["bits_per_dim"] - (test["nelbo"] / (784 * np.log(2)) + 8)) < 1e-9
