"""The notebooks run end to end, headless, on a small budget (a kernel per notebook): the
student notebook of hw_vae and the course-staff notebooks of notebooks/, whose outputs and
execution counts stay out of the repository."""

import copy
import math
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VAE_NOTEBOOK = REPO / "solutions" / "hw_vae" / "vae.ipynb"
STAFF = REPO / "notebooks"
DATA = Path(os.environ.get("VAECOURSE_DATA", REPO.parent / "shared" / "data"))
BINARIZED = [f"binarized_mnist/binarized_mnist_{s}.amat" for s in ("train", "valid", "test")]
MNIST = [
    f"MNIST/raw/{s}-{k}-ubyte" for s in ("train", "t10k") for k in ("images-idx3", "labels-idx1")
]
SVHN_SUBSET = ["SVHN/svhn_train_first1083_X_nhwc_uint8.npy"]
NUMBER = r"(-?(?:\d+\.\d+|nan|inf))"
# Appended to vae.ipynb by the test: is every plotted value of the ELBO curve inside the axis?
CURVE_CHECK = """lo, hi = ax.get_ylim()
ys = [float(y) for line in ax.get_lines() for y in line.get_ydata()]
print(f"curve points inside the y-axis: {sum(lo <= y <= hi for y in ys)} of {len(ys)}")"""


def missing(root: Path, files: list[str]) -> list[str]:
    """The files (or their .gz twins) absent from the data folder `root`."""
    return [f for f in files if not any((root / f"{f}{z}").exists() for z in ("", ".gz"))]


def binarized_mnist_root() -> Path:
    """The data folder ($VAECOURSE_DATA, else ../shared/data); skip without binarized MNIST."""
    if lacking := missing(DATA, BINARIZED):
        pytest.skip(f"binarized MNIST is not in {DATA} (missing {', '.join(lacking)})")
    return DATA


def execute(notebook: Path, cwd: Path, timeout: int = 240, append: str | None = None) -> str:
    """Run every cell of `notebook` (then the code `append`, if any) in a fresh kernel
    started in `cwd`; return its printed text."""
    nbformat = pytest.importorskip("nbformat")
    preprocessors = pytest.importorskip("nbconvert.preprocessors")
    nb = nbformat.read(notebook, as_version=4)
    if append is not None:
        nb.cells.append(nbformat.v4.new_code_cell(append))
    runner = preprocessors.ExecutePreprocessor(timeout=timeout, kernel_name="python3")
    runner.preprocess(nb, {"metadata": {"path": str(cwd)}})  # raises on the first failing cell
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream"
    )


def test_vae_notebook_trains_and_prints_finite_numbers(tmp_path, monkeypatch):
    """Does vae.ipynb run headless on 1 epoch of 1000 training images, validate on all 10000
    validation images, print finite numbers and save PNGs whose ELBO curve shows its data?"""
    root = binarized_mnist_root()
    out = tmp_path / "out"
    for name, value in {
        "VAECOURSE_DATA": str(root),
        "VAE_NOTEBOOK_EPOCHS": "1",
        "VAE_NOTEBOOK_SUBSET": "1000",
        "VAE_NOTEBOOK_TEST_SUBSET": "200",
        "VAE_NOTEBOOK_OUT": str(out),
        "PYTHONPATH": os.pathsep.join([str(VAE_NOTEBOOK.parent), str(REPO)]),
        "OMP_NUM_THREADS": "1",
    }.items():
        monkeypatch.setenv(name, value)  # the kernel inherits this process's environment
    text = execute(VAE_NOTEBOOK, cwd=tmp_path, append=CURVE_CHECK)
    assert "train (1000, 784) valid (10000, 784) test (10000, 784)" in text, text[:2000]
    elbos = [float(v) for v in re.findall(rf"validation ELBO\s+{NUMBER}", text)]
    assert len(elbos) == 1 and math.isfinite(elbos[0]) and elbos[0] < 0, text[-2000:]
    assert "on 200 test images" in text, text[-2000:]
    (log_px,) = [
        float(v) for v in re.findall(rf"1\.7: test log-likelihood, K = 200: {NUMBER}", text)
    ]
    assert math.isfinite(log_px) and log_px < 0, text[-2000:]
    inside, plotted = map(int, re.search(r"inside the y-axis: (\d+) of (\d+)", text).groups())
    assert plotted >= 2 and inside == plotted, text[-500:]
    assert {p.name for p in out.iterdir()} == {"elbo_curve.png", "samples.png"}


# ------------------------------------------------------------------------- staff notebooks


def run_staff_notebook(hw: str, tmp_path: Path, monkeypatch) -> tuple[str, set[str]]:
    """Execute notebooks/<hw>.ipynb in tmp_path on one thread; return its printed text and
    the names of the pictures it saved, after checking that it printed no NaN or infinity
    and that it listed exactly the pictures it saved."""
    out = tmp_path / "out"
    for name, value in {
        "VAECOURSE_DATA": str(DATA),
        "NOTEBOOK_OUT": str(out),
        "PYTHONPATH": str(REPO),
        "OMP_NUM_THREADS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    text = execute(STAFF / f"{hw}.ipynb", cwd=tmp_path)
    assert not re.search(r"\b(nan|inf)\b", text, re.IGNORECASE), text
    files = {p.name for p in (out / hw).iterdir()}
    listed = re.search(r"pictures written: (\d+): (.*)", text)
    assert listed and listed.group(2).split(", ") == sorted(files), text[-500:]
    assert not list(tmp_path.glob("notebook_out")) and not list(STAFF.glob("**/*.png"))
    return text, files


def numbers_after(label: str, text: str) -> list[float]:
    """The numbers on the line that starts with `label`."""
    (line,) = [line for line in text.splitlines() if line.startswith(label)]
    return [float(v) for v in re.findall(NUMBER, line[len(label) :])]


def test_gmvae_notebook_reproduces_the_seed_0_runs(tmp_path, monkeypatch):
    """Does the hw_gmvae_iwae_ssvae notebook run headless, find bands.json derived from
    runs.jsonl, save its pictures and, with MNIST present, reproduce from the shipped weights
    the numbers of the calibration runs they come from (seed 0)?"""
    text, files = run_staff_notebook("hw_gmvae_iwae_ssvae", tmp_path, monkeypatch)
    assert "bands.json is what bands.py derives from runs.jsonl: True" in text
    assert files == {
        f"{name}.png"
        for name in (
            "iwae_curves",
            "vae_samples",
            "gmvae_samples",
            "ssvae_class_grid",
            "gmvae_components",
            "vae_interpolations",
            "gmvae_interpolations",
        )
    }
    rows = re.findall(rf"(\w+)\s+(\w+)\s+shipped\s+{NUMBER}\s+seed-0 run\s+{NUMBER}", text)
    if missing(DATA, MNIST):
        assert not rows and "synthetic digits" in text, text[-3000:]
        return
    assert len(rows) == 2 * 8 + 1, text[-3000:]  # 8 numbers of each model, one accuracy
    for kind, key, got, want in rows:
        # IWAE-1000 is drawn from other random numbers than the calibration's: its noise
        tolerance = 0.3 if key in ("iwae_1000", "iwae_gap") else 0.01
        assert abs(float(got) - float(want)) <= tolerance, (kind, key, got, want)


def test_vae_staff_notebook_shows_calibration_and_ideal_critics(tmp_path, monkeypatch):
    """Does the hw_vae staff notebook run headless, find every reference run passing the
    full tier's checks, the Problem 2 objectives reaching the exact distances at ideal
    critics, and the floors of Problems 4 and 5 where the handout puts them?"""
    text, files = run_staff_notebook("hw_vae", tmp_path, monkeypatch)
    assert files == {"elbo_curves.png", "q2_distances.png", "vae2d_data.png"}
    assert "bands.json is what calibrate.py derives from runs.jsonl: True" in text
    assert text.count("pass, pass, pass") == 3 and "FAIL" not in text, text
    thetas = numbers_after("theta:", text)
    assert numbers_after("Hellinger^2:", text) == pytest.approx([2.0 * (t > 0) for t in thetas])
    assert numbers_after("Wasserstein:", text) == pytest.approx(thetas, abs=1e-3)
    assert "largest Lipschitz penalty of T(x) = -x_1: 0\n" in text, text
    assert numbers_after("4.3:", text)[-1] == pytest.approx(6.0, abs=0.01)
    entropy = numbers_after("5.4: entropy", text)[-1]
    assert entropy == pytest.approx(3.208, abs=1e-3)
    fits = [float(v) for v in re.findall(rf"Gaussian fit to its 100000 points, {NUMBER}", text)]
    assert fits == pytest.approx([entropy] * 2, abs=0.01)


def test_svhn_notebook_shows_the_shipped_fsvae_and_the_flow(tmp_path, monkeypatch):
    """Does the hw_svhn notebook run headless, reproduce the handout's first training steps
    on the subset (when present), find the flow causal and its log-density equal to the
    brute-force one, and the logistic mixture's probabilities summing to one?"""
    text, files = run_staff_notebook("hw_svhn", tmp_path, monkeypatch)
    assert files == {
        "fsvae_class_grid.png",
        "fsvae_interpolations.png",
        "flow_receptive_field.png",
        "logistic_mixture.png",
    }
    if not missing(DATA, SVHN_SUBSET):
        first_10 = float(re.search(rf"mean of the first 10 steps: {NUMBER}", text).group(1))
        assert first_10 == pytest.approx(9.23, abs=0.01), text
    nelbo = float(re.search(rf"NELBO {NUMBER}", text).group(1))
    assert math.isfinite(nelbo)
    classes, styles = map(float, re.search(rf"\(classes\): {NUMBER}, .*: {NUMBER}", text).groups())
    assert styles > 5 * classes, text  # the shipped FSVAE never saw a label: y barely matters
    assert "see their own position or a later one: 0\n" in text, text
    log_prob, brute = re.search(rf"log_prob {NUMBER}, brute force {NUMBER}", text).groups()
    assert float(log_prob) == pytest.approx(float(brute), abs=1e-8)
    assert "sum of the 256 probabilities: 1.000000" in text


# ------------------------------------------------------------------------------- in git


def every_notebook() -> list[Path]:
    """The notebooks of notebooks/ and solutions/, checkpoints of Jupyter excepted."""
    found = [*STAFF.glob("*.ipynb"), *(REPO / "solutions").rglob("*.ipynb")]
    return sorted(p for p in found if ".ipynb_checkpoints" not in p.parts)


def test_every_notebook_is_stored_without_outputs():
    """Are the outputs and execution counts of every notebook in notebooks/ and solutions/
    cleared (what the release's clear_outputs step does), so no result lands in git?"""
    nbformat = pytest.importorskip("nbformat")
    from grader.release.clear_outputs import clear_notebook

    paths = every_notebook()
    assert {p.name for p in paths} >= {
        "vae.ipynb",
        "hw_gmvae_iwae_ssvae.ipynb",
        "hw_vae.ipynb",
        "hw_svhn.ipynb",
    }
    dirty = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        cleared = copy.deepcopy(notebook)
        clear_notebook(cleared)
        if cleared != notebook:
            dirty.append(str(path.relative_to(REPO)))
    assert not dirty, (
        f"notebooks with outputs or execution counts: {', '.join(dirty)}; clear them with "
        "`jupyter nbconvert --clear-output --inplace FILE` before committing"
    )
