"""Full tier, items 1.3, 2.2, 3.3, 4.1 and 4.3: train the submission, check the handout's numbers.

The student's models are trained inside the worker with the provided loop and the handout's
schedule; only the trained weights come back. The numbers are then computed by the reference
code in the trusted process, so a submission is judged by the model its own loss trained,
against bands calibrated from reference runs (see bands.py).
"""

import json

import pytest

from grader.checks import fail, run
from grader.hw_gmvae_iwae_ssvae import bands, protocol

pytestmark = pytest.mark.tier("full")
SEED = 0
TIMEOUT = {"vae": 1800, "gmvae": 2400, "ssvae_gw0": 1200, "ssvae_gw1": 3600}  # seconds
TRAIN_THREADS = 2


class Bands(dict):
    """{kind: {number: band}}; a kind without calibration runs skips its tests (worth 0)."""

    def __missing__(self, kind: str):
        pytest.skip(f"the {kind} is not calibrated yet (no reference runs in runs.jsonl)")


@pytest.fixture(scope="session")
def band_table() -> dict:
    if not bands.BANDS.exists():
        pytest.fail("calibration/bands.json is missing: python -m grader.hw_gmvae_iwae_ssvae.bands")
    return Bands(json.loads(bands.BANDS.read_text()))


@pytest.fixture(scope="session")
def mnist(grading):
    try:
        return protocol.mnist(grading.data_root)
    except FileNotFoundError as exc:
        pytest.fail(f"the full tier needs MNIST: {exc}")


@pytest.fixture(scope="session")
def trained(grading, mnist):
    """kind -> the reference numbers of the model that the submission trained (cached)."""
    cache: dict = {}

    def get(kind: str) -> dict:
        if kind not in cache:
            try:
                cache[kind] = train_and_evaluate(grading.sandbox, kind, mnist)
            except BaseException as exc:  # one failed training fails its tests, once
                cache[kind] = exc
        if isinstance(cache[kind], BaseException):
            raise cache[kind]
        return cache[kind]

    return get


def train_and_evaluate(sandbox, kind: str, data) -> dict:
    module, cls, kwargs, iters, y_status = protocol.MODELS[kind]
    request = {
        "op": "train",
        "loop": "codebase.train:train",
        "seed": SEED,
        "threads": TRAIN_THREADS,
        "init": {"target": f"{module}:{cls}", "kwargs": kwargs},
        "data": {
            "train_x": data.train_x,
            "labelled_x": data.labelled_x,
            "labelled_y": data.labelled_y,
        },
        "loop_kwargs": {"iter_max": iters, "y_status": y_status, "progress": False},
    }
    state = run(sandbox, request, timeout=TIMEOUT[kind])["state"]
    if not protocol.nan_free(state):
        fail(f"training the {kind} produced NaN or infinite weights")
    return protocol.evaluate(kind, state, data)


def check_band(value: float, b: dict, what: str, side: str = "both") -> None:
    """Fail unless value is inside the band (side: 'both', 'upper' bound only, 'lower' only)."""
    too_high = side in ("both", "upper") and value > b["high"]
    too_low = side in ("both", "lower") and value < b["low"]
    if too_high or too_low:
        fail(
            f"{what} is {value:.4g}; reference runs give {b['mean']:.4g} +- {b['sd']:.2g}, "
            f"and the accepted range is [{b['low']:.4g}, {b['high']:.4g}]"
        )


def check_monotone(numbers: dict, slack: float = 0.3) -> None:
    """Negative IWAE-m must not grow with m (slack: the evaluation's own Monte-Carlo noise)."""
    values = [numbers[f"iwae_{m}"] for m in (1, 10, 100, 1000)]
    if any(a < b - slack for a, b in zip(values, values[1:])):
        fail(f"negative IWAE-1/10/100/1000 are {[round(v, 3) for v in values]}: not decreasing")


@pytest.mark.item("1.3")
@pytest.mark.points(1)
def test_vae_nelbo(trained, band_table):
    """After 20000 steps the VAE's test-subset NELBO is in the calibrated range (about 100-102)"""
    check_band(trained("vae")["nelbo"], band_table["vae"]["nelbo"], "the VAE's NELBO", "upper")


@pytest.mark.item("1.3")
@pytest.mark.points(2)
def test_vae_kl_rec(trained, band_table):
    """The VAE's KL and reconstruction terms are in the calibrated ranges"""
    numbers = trained("vae")
    check_band(numbers["kl"], band_table["vae"]["kl"], "the VAE's KL term")
    check_band(numbers["rec"], band_table["vae"]["rec"], "the VAE's reconstruction term")


@pytest.mark.item("3.3")
@pytest.mark.points(1)
def test_vae_iwae_monotone(trained):
    """The trained VAE's IWAE bounds tighten with m = 1, 10, 100, 1000"""
    check_monotone(trained("vae"))


@pytest.mark.item("3.3")
@pytest.mark.points(2)
def test_vae_iwae_values(trained, band_table):
    """IWAE-1000 and the gap IWAE-1 minus IWAE-1000 are in the calibrated ranges"""
    n = trained("vae")
    check_band(n["iwae_1000"], band_table["vae"]["iwae_1000"], "negative IWAE-1000", "upper")
    gap = n["iwae_1"] - n["iwae_1000"]
    check_band(gap, band_table["vae"]["iwae_gap"], "the gap IWAE-1 - IWAE-1000", "lower")


@pytest.mark.item("2.2")
@pytest.mark.points(2)
def test_gmvae_nelbo(trained, band_table):
    """After 20000 steps the GMVAE's test-subset NELBO is in the calibrated range"""
    check_band(
        trained("gmvae")["nelbo"], band_table["gmvae"]["nelbo"], "the GMVAE's NELBO", "upper"
    )


@pytest.mark.item("2.2")
@pytest.mark.points(1)
def test_gmvae_iwae_monotone(trained):
    """The trained GMVAE's IWAE bounds tighten with m = 1, 10, 100, 1000"""
    check_monotone(trained("gmvae"))


@pytest.mark.item("4.1")
@pytest.mark.points(1)
def test_ssvae_supervised_only(trained, band_table):
    """With gw = 0 (labelled data only) the classifier's test accuracy is about 0.70-0.78"""
    check_band(
        trained("ssvae_gw0")["accuracy"],
        band_table["ssvae_gw0"]["accuracy"],
        "the test accuracy with gw=0",
    )


@pytest.mark.item("4.3")
@pytest.mark.points(3)
def test_ssvae_semi_supervised(trained, band_table):
    """With gw = 1 the unlabelled data lift the test accuracy above about 0.92"""
    check_band(
        trained("ssvae_gw1")["accuracy"],
        band_table["ssvae_gw1"]["accuracy"],
        "the test accuracy with gw=1",
        "lower",
    )
