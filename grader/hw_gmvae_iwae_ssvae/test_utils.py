"""Items 1.1 and 2.1: sample_gaussian, log_normal and log_normal_mixture in codebase/utils.py."""

import math

import pytest
import torch

from grader.checks import assert_close, check_finite, check_shape, fail, outputs
from grader.hw_gmvae_iwae_ssvae.harness import utils_call
from grader.messages import Grad

MEANS = torch.tensor([-2.0, 0.0, 0.5, 3.0, 1.0])
VARIANCES = torch.tensor([0.01, 1.0, 4.0, 0.25, 9.0])  # several != 1 so that std != variance
ROWS = 20000


def gaussian_inputs(rows: int = ROWS, dtype=torch.float32):
    """m, v: (rows, 5) each, every row MEANS and VARIANCES, as `dtype`."""
    return MEANS.repeat(rows, 1).to(dtype), VARIANCES.repeat(rows, 1).to(dtype)


# ------------------------------------------------------------------------- 1.1 sample_gaussian


@pytest.mark.item("1.1")
@pytest.mark.points(1)
def test_sample_gaussian_shape(sandbox):
    """sample_gaussian returns one sample per entry, with the shape and dtype of m"""
    for shape, dtype in (
        ((7, 5), torch.float32),
        ((3, 4, 5), torch.float32),
        ((6, 5), torch.float64),
    ):
        m, v = torch.randn(shape, dtype=dtype), torch.rand(shape, dtype=dtype) + 0.1
        (z,) = outputs(utils_call(sandbox, "sample_gaussian", m, v), 1, "sample_gaussian")
        check_shape(z[0], shape, f"sample_gaussian(m, v) for m of shape {shape}")
        if z.dtype != dtype:
            fail(f"sample_gaussian turned {dtype} inputs into {z.dtype}: keep the dtype of m")
        check_finite(z, "sample_gaussian's output")


@pytest.mark.item("1.1")
@pytest.mark.points(2)
def test_sample_gaussian_moments(sandbox):
    """Samples have mean m and variance v (v is a variance, not a standard deviation)"""
    m, v = gaussian_inputs()
    (z,) = outputs(utils_call(sandbox, "sample_gaussian", m, v, seed=3), 1, "sample_gaussian")
    check_shape(z[0], m.shape, "sample_gaussian(m, v)")
    z = z[0].double()
    mean_se = VARIANCES.double().sqrt() / math.sqrt(ROWS)
    var_se = VARIANCES.double() * math.sqrt(2 / (ROWS - 1))
    for name, got, want, se in (
        ("mean", z.mean(0), MEANS, mean_se),
        ("variance", z.var(0), VARIANCES, var_se),
    ):
        off = ((got - want.double()).abs() / se).max()
        if off > 6:
            fail(
                f"the sample {name}s per column are {got.numpy().round(4).tolist()} but should be "
                f"{want.tolist()} (m = {MEANS.tolist()}, v = {VARIANCES.tolist()}); "
                f"worst is {off:.0f} standard errors off"
            )


@pytest.mark.item("1.1")
@pytest.mark.points(2)
def test_sample_gaussian_reparameterized(sandbox):
    """Gradients reach m and v through z = m + sqrt(v) * eps (the reparameterization trick)"""
    m, v = gaussian_inputs(rows=200, dtype=torch.float64)
    grad = Grad(output=0, args=(0, 1))
    run = utils_call(sandbox, "sample_gaussian", m, v, seed=5, grad=grad).runs[0]
    if not run.grads.connected or None in run.grads.args:
        fail(
            "no gradient flows from z back to m and v: draw the noise separately and build "
            "z from m and v (torch.normal(m, std) is not differentiable)"
        )
    z, (dm, dv) = run.outputs[0], run.grads.args
    check_shape(z, m.shape, "sample_gaussian(m, v)")
    assert_close(dm, torch.ones_like(m), "dz/dm (summed over z)", rtol=1e-6, atol=1e-6)
    # z = m + sqrt(v) eps  =>  dz/dv = eps / (2 sqrt(v)) = (z - m) / (2 v)
    assert_close(
        dv, (z - m) / (2 * v), "dz/dv, which should be (z - m) / (2 v)", rtol=1e-5, atol=1e-6
    )


@pytest.mark.item("1.1")
@pytest.mark.points(1)
def test_sample_gaussian_fresh_noise(sandbox):
    """Every entry and every call gets its own noise"""
    m, v = torch.zeros(64, 8), torch.ones(64, 8)
    (z,) = outputs(
        utils_call(sandbox, "sample_gaussian", m, v, repeat=2, seed=9), 1, "sample_gaussian"
    )
    check_shape(z[0], m.shape, "sample_gaussian(m, v)")
    if torch.equal(z[0], z[1]):
        fail("two calls returned the same sample: draw new noise in every call")
    if (z[0] == z[0][:1]).all(0).any() or (z[0] == z[0][:, :1]).all(1).any():
        fail("some rows or columns of the sample are identical: draw noise of the full shape of m")
    corr = torch.corrcoef(z[0].T.double())
    if (corr - torch.eye(8, dtype=torch.float64)).abs().max() > 0.6:
        fail("the coordinates of the sample are strongly correlated: they must be independent")


# ------------------------------------------------------------------------- 2.1 log_normal


def random_gaussian(shape, dtype=torch.float64, seed=0):
    """x, m, v of `shape` drawn from `seed`: x ~ N(0, 4), m ~ N(0, 1), v ~ U(0.05, 3.05)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=gen, dtype=dtype) * 2
    m = torch.randn(shape, generator=gen, dtype=dtype)
    v = torch.rand(shape, generator=gen, dtype=dtype) * 3 + 0.05
    return x, m, v


def expected_log_normal(x, m, v):
    """log N(x; m, diag v) summed over the last dimension, by torch.distributions:
    the broadcast shape of x, m and v without its last dimension."""
    return torch.distributions.Normal(m, v.sqrt()).log_prob(x).sum(-1)


@pytest.mark.item("2.1")
@pytest.mark.points(2)
def test_log_normal_values(sandbox):
    """log_normal gives log N(x; m, diag v) summed over the last dimension"""
    x, m, v = random_gaussian((13, 6))
    (got,) = outputs(utils_call(sandbox, "log_normal", x, m, v), 1, "log_normal")
    assert_close(got[0], expected_log_normal(x, m, v), "log_normal(x, m, v)", rtol=1e-6, atol=1e-6)


@pytest.mark.item("2.1")
@pytest.mark.points(1)
def test_log_normal_broadcasts(sandbox):
    """log_normal broadcasts leading dimensions, e.g. x (b, 1, d) against m, v (1, k, d)"""
    x, _, _ = random_gaussian((9, 1, 4), seed=1)
    _, m, v = random_gaussian((1, 5, 4), seed=2)
    (got,) = outputs(utils_call(sandbox, "log_normal", x, m, v), 1, "log_normal")
    assert_close(got[0], expected_log_normal(x, m, v), "log_normal with broadcasting", rtol=1e-6)


@pytest.mark.item("2.1")
@pytest.mark.points(1)
def test_log_normal_extreme_variances(sandbox):
    """log_normal stays exact for tiny and huge variances and far-away points"""
    x = torch.tensor([[0.0, 50.0, -30.0], [1e-3, 2.0, 400.0]])
    m = torch.tensor([[0.0, 0.0, 0.0], [0.0, 2.0, -400.0]])
    v = torch.tensor([[1e-6, 1e4, 1e-2], [1e-8, 1e3, 50.0]])
    (got,) = outputs(utils_call(sandbox, "log_normal", x, m, v), 1, "log_normal")
    assert_close(
        got[0],
        expected_log_normal(x.double(), m.double(), v.double()),
        "log_normal for extreme variances",
        rtol=1e-5,
        atol=1e-3,
    )


# ------------------------------------------------------------------------- 2.1 log_normal_mixture


def expected_mixture(z, m, v):
    """(batch,) log of the uniform mixture of the k Gaussians m, v ((1 or batch), k, d)
    at z (batch, d)."""
    per_component = expected_log_normal(z.unsqueeze(1), m, v)  # (batch, k)
    return torch.logsumexp(per_component, dim=1) - math.log(m.shape[1])


@pytest.mark.item("2.1")
@pytest.mark.points(2)
def test_log_normal_mixture_values(sandbox):
    """log_normal_mixture is the log-density of the uniform mixture, for (1, k, d) and (b, k, d)"""
    z, _, _ = random_gaussian((11, 3), seed=3)
    for lead in (1, 11):
        _, m, v = random_gaussian((lead, 6, 3), seed=4)
        result = utils_call(sandbox, "log_normal_mixture", z, m, v, trusted=("log_normal",))
        (got,) = outputs(result, 1, "log_normal_mixture")
        assert_close(
            got[0],
            expected_mixture(z, m, v),
            f"log_normal_mixture with m, v of shape {tuple(m.shape)}",
            rtol=1e-6,
            atol=1e-6,
        )


@pytest.mark.item("2.1")
@pytest.mark.points(1)
def test_log_normal_mixture_one_component(sandbox):
    """A mixture of one component is that component's log_normal"""
    z, m, v = random_gaussian((8, 4), seed=5)
    result = utils_call(
        sandbox, "log_normal_mixture", z, m.unsqueeze(1), v.unsqueeze(1), trusted=("log_normal",)
    )
    (got,) = outputs(result, 1, "log_normal_mixture")
    assert_close(got[0], expected_log_normal(z, m, v), "log_normal_mixture with k = 1", rtol=1e-6)


@pytest.mark.item("2.1")
@pytest.mark.points(1)
def test_log_normal_mixture_stable(sandbox):
    """log_normal_mixture stays finite and exact where every component's density underflows"""
    z = torch.tensor([[40.0, -35.0], [0.0, 0.0], [-60.0, 10.0]])
    m = torch.tensor([[[0.0, 0.0], [1.0, -1.0], [-2.0, 3.0], [0.5, 0.5]]])
    v = torch.full((1, 4, 2), 0.05)  # log-densities near -3e4: exp() underflows to 0
    result = utils_call(sandbox, "log_normal_mixture", z, m, v, trusted=("log_normal",))
    (got,) = outputs(result, 1, "log_normal_mixture")
    assert_close(
        got[0],
        expected_mixture(z.double(), m.double(), v.double()),
        "log_normal_mixture far from every component (use log_mean_exp)",
        rtol=1e-5,
    )
