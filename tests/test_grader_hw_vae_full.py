"""hw_vae's full tier (items 1.6 and 1.7): do its worker requests do what the reference does?

The full tier itself trains for the handout's 20 epochs; these tests run the same requests on
a small schedule and compare them with the reference run in the trusted process.
"""

from types import SimpleNamespace

import pytest
import torch

from grader import homeworks
from grader.calls import run
from grader.hw_vae import calibrate, protocol
from grader.sandbox import Limits, Sandbox
from grader.submission import stage


@pytest.fixture(scope="module")
def data(data_root):
    return protocol.splits(data_root)


@pytest.fixture
def sandbox(tmp_path):
    hw = homeworks.get("hw_vae")
    staged = stage(hw, hw.solution, tmp_path)
    box = Sandbox(staged.tree, Limits(timeout=120))
    yield box
    box.close()


def test_worker_trains_and_estimates_like_the_reference(sandbox, data):
    """Do the worker's training (1 epoch, 640 images) and its log p(x) match the reference's?"""
    train_x, test_x = data.train_x[:640], data.test_x[::500]  # 20 test images, all digits
    state = run(sandbox, protocol.train_request(train_x, seed=3, threads=1, epochs=1)).state
    reference, _ = protocol.train_reference(SimpleNamespace(train_x=train_x), seed=3, epochs=1)
    assert state.keys() == reference.keys()
    for name in state:
        torch.testing.assert_close(state[name], reference[name], rtol=1e-4, atol=1e-5)
    reply = run(sandbox, protocol.log_likelihood_request(state, test_x, seed=5))
    (values,) = reply.runs[0].outputs
    assert values.shape == (20,) and torch.isfinite(values).all()
    expected = protocol.log_likelihood(state, test_x, seed=5)
    assert values.mean().item() == pytest.approx(expected, rel=1e-5)


def test_bands_come_from_the_recorded_runs():
    """Is bands.json what calibrate.py derives from runs.jsonl, with the handout's schedule?"""
    import json

    runs = [json.loads(line) for line in calibrate.RUNS.read_text().splitlines() if line]
    assert runs and all(r["epochs"] == 20 and r["lr"] == 3e-4 for r in runs)
    assert json.loads(calibrate.BANDS.read_text()) == calibrate.derive(runs)
