"""The solution notebooks run end to end, headless, on a small budget (a kernel per notebook)."""

import math
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VAE_NOTEBOOK = REPO / "solutions" / "hw_vae" / "vae.ipynb"
DATA = Path(os.environ.get("VAECOURSE_DATA", REPO.parent / "shared" / "data"))
BINARIZED = [f"binarized_mnist/binarized_mnist_{s}.amat" for s in ("train", "valid", "test")]
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
