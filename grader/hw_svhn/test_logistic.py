"""Item 2.B (bonus): discretized_logistic_mixture_log_prob over 8-bit pixel values.

A distribution over the 256 values must sum to one, which needs the edge bins (0 reaches down
to -inf, 255 up to +inf) and bins of the right width; values are compared with the reference,
and stay finite far in the tails, where a difference of two sigmoids rounds to zero.
"""

import pytest
import torch

from grader import reference
from grader.checks import assert_close, check_shape, fail, outputs
from grader.hw_svhn import harness

pytestmark = pytest.mark.item("2.B")
WHAT = "discretized_logistic_mixture_log_prob"
LIKELY = -9.2  # log 1e-4: values this likely are compared exactly
TAIL_SLACK = 0.5  # nats allowed below that, for approximations such as PixelCNN++'s


def reference_log_prob(x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """The reference's log P(x) (computed in float64, returned as float32), shaped as the
    8-bit values x, under the mixtures `params` (x's shape, 3 k)."""
    (logistic,) = reference.load(harness.HW, "svhn_vae.logistic")
    return logistic.discretized_logistic_mixture_log_prob(x.double(), params.double()).float()


def student(sandbox, x, params) -> torch.Tensor:
    """The student's log P(x) of one call, checked to have the shape of x."""
    (got,) = outputs(harness.logistic_call(sandbox, x, params), 1, WHAT)
    check_shape(got[0], x.shape, f"{WHAT}(x, params) for x of shape {tuple(x.shape)}")
    return got[0]


@pytest.mark.points(1)
def test_sums_to_one_over_the_256_values(sandbox):
    """exp(log P(k)) summed over k = 0 .. 255 is 1 for every mixture"""
    params = harness.mixture_params((12,), k=3, seed=1)  # (12, 9): 12 mixtures
    params[:2, 3:6] = torch.tensor([[-1.0, -0.99, -1.05], [1.0, 0.995, 1.1]])  # edge-heavy
    x = torch.arange(256).reshape(256, 1).expand(256, 12)
    got = student(sandbox, x, params.expand(256, 12, 9))
    total = got.double().exp().sum(0)  # (12,)
    worst = int((total - 1).abs().argmax())
    if (total - 1).abs().max() > 1e-3:
        fail(
            f"the 256 probabilities of mixture {worst} sum to {total[worst].item():.6f}, not "
            "1: the bin of 0 must reach down to -inf and the bin of 255 up to +inf, and the "
            "bins of the values in between must be 2/255 wide on [-1, 1], touching each other"
        )


@pytest.mark.points(1)
def test_values_on_images(sandbox):
    """log P(x) elementwise on (batch, 3, 8, 8) pixel values, edges 0 and 255 included"""
    gen = torch.Generator().manual_seed(2)
    x = torch.randint(0, 256, (4, 3, 8, 8), generator=gen)
    x[0, 0, 0, :4] = torch.tensor([0, 255, 1, 254])
    params = harness.mixture_params(tuple(x.shape), k=5, seed=3)
    got, want = student(sandbox, x, params), reference_log_prob(x, params)
    likely = want > LIKELY  # exact there; rarer values may use an approximation in the tails
    assert_close(
        got[likely],
        want[likely],
        f"{WHAT} on random pixels (those with P > 1e-4)",
        rtol=1e-4,
        atol=1e-4,
    )
    gap = (got[~likely] - want[~likely]).abs()
    if gap.numel() and gap.max() > TAIL_SLACK:
        fail(
            f"{WHAT} is off by {gap.max().item():.3g} nats on a value of probability below "
            "1e-4: even there it should be within a fraction of a nat"
        )


@pytest.mark.points(1)
def test_finite_in_the_tails(sandbox):
    """Far in the tails (dozens of scales from every mean) log P stays finite and accurate"""
    x = torch.tensor([255, 250, 128, 5, 0, 3])
    means = torch.tensor([-0.9, -0.8, 0.9, 0.95, 0.9, -1.0])
    params = torch.stack([torch.zeros(6), means, torch.full((6,), -4.0)], dim=1)  # K = 1
    got = student(sandbox, x, params)
    want = reference_log_prob(x, params)
    assert_close(
        got,
        want,
        f"{WHAT} for values 20 to 100 scales from the mean (compute "
        "log(sigmoid(a) - sigmoid(b)) in log space: the difference rounds to 0 in "
        "float32)",
        rtol=1e-3,
        atol=1e-2,
    )
