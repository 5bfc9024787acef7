"""Items 1.1-1.5: the likelihood and KL helpers of q1_solution.py.

Every expected value comes from a formula written here or from torch.distributions, never from
the reference solution. Each test calls one helper with the trusted version of the others.
"""

import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from grader import refcache
from grader.checks import (
    Count,
    assert_close,
    assert_random,
    assert_same_mean,
    check_shape,
    fail,
    outputs,
)
from grader.hw_vae.harness import q1_call
from grader.messages import Grad


def one_output(result: dict, name: str, batch: int, nonfinite: str = "") -> torch.Tensor:
    """The (repeats, batch) values of a helper that must return one value per example."""
    (values,) = outputs(result, 1, name, nonfinite=nonfinite)
    check_shape(values[0], (batch,), f"{name}'s result (one value per example, summed)")
    return values


def gaussian_params(shape, seed: int, dtype=torch.float64) -> list[torch.Tensor]:
    """mu_q, logvar_q, mu_p, logvar_p of `shape`, means in [-2, 2], log-variances in [-2, 2]."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.rand(shape, generator=gen, dtype=dtype) * 4 - 2 for _ in range(4)]


def normal(mu: torch.Tensor, logvar: torch.Tensor) -> Normal:
    """N(mu, exp(logvar)) in float64, logvar a log-variance."""
    return Normal(mu.double(), (0.5 * logvar.double()).exp())


def expected_kl(mu_q, logvar_q, mu_p, logvar_p) -> torch.Tensor:
    """(batch,) KL(q || p) summed over every non-batch dimension, by torch.distributions."""
    kl = kl_divergence(normal(mu_q, logvar_q), normal(mu_p, logvar_p))
    return kl.reshape(kl.shape[0], -1).sum(1)


# ------------------------------------------------------------------ 1.1 log_likelihood_bernoulli


def bernoulli_inputs(shape, seed: int, dtype=torch.float64):
    """mu in [0.02, 0.98] and binary targets, 1 with probability 0.4, of `shape` each."""
    gen = torch.Generator().manual_seed(seed)
    mu = torch.rand(shape, generator=gen, dtype=dtype) * 0.96 + 0.02  # in [0.02, 0.98]
    target = torch.bernoulli(torch.full(shape, 0.4, dtype=dtype), generator=gen)
    return mu, target


def expected_bernoulli(mu, target) -> torch.Tensor:
    """(batch,) log Bern(target; mu) summed over every non-batch dimension, by
    torch.distributions."""
    log_p = Bernoulli(probs=mu.double()).log_prob(target.double())
    return log_p.reshape(log_p.shape[0], -1).sum(1)


@pytest.mark.item("1.1")
@pytest.mark.points(2)
def test_bernoulli_values(sandbox):
    """log_likelihood_bernoulli sums log Bern(target; mu) over features, mu a probability"""
    mu, target = bernoulli_inputs((16, 50), seed=0)
    got = one_output(
        q1_call(sandbox, "log_likelihood_bernoulli", mu, target), "log_likelihood_bernoulli", 16
    )
    assert_close(
        got[0],
        expected_bernoulli(mu, target),
        "log_likelihood_bernoulli(mu, target)",
        rtol=1e-6,
        atol=1e-6,
    )


@pytest.mark.item("1.1")
@pytest.mark.points(1)
def test_bernoulli_images(sandbox):
    """log_likelihood_bernoulli flattens (batch, 1, 28, 28) images and sums all 784 pixels"""
    mu, target = bernoulli_inputs((5, 1, 28, 28), seed=1, dtype=torch.float32)
    got = one_output(
        q1_call(sandbox, "log_likelihood_bernoulli", mu, target),
        "log_likelihood_bernoulli on images",
        5,
    )
    assert_close(
        got[0],
        expected_bernoulli(mu, target),
        "log_likelihood_bernoulli on images",
        rtol=1e-5,
        atol=1e-3,
    )


@pytest.mark.item("1.1")
@pytest.mark.points(1)
def test_bernoulli_saturated(sandbox):
    """Probabilities of exactly 0 and 1 with agreeing targets give log 1 = 0, not NaN"""
    mu, target = bernoulli_inputs((6, 1, 28, 28), seed=2, dtype=torch.float32)
    gen = torch.Generator().manual_seed(3)
    saturated = torch.rand(mu.shape, generator=gen) < 0.5
    mu = torch.where(saturated, target, mu)  # exactly 0 or 1, where the target agrees
    got = one_output(
        q1_call(sandbox, "log_likelihood_bernoulli", mu, target),
        "log_likelihood_bernoulli with saturated probabilities",
        6,
    )
    free = torch.where(saturated, torch.full_like(mu, 0.5), mu)
    expected = expected_bernoulli(free, target) - saturated.reshape(6, -1).sum(1) * math.log(0.5)
    # up to 1e-4 nats per saturated pixel: clamping mu with any eps <= 1e-4 is accepted
    assert_close(
        got[0],
        expected,
        "log_likelihood_bernoulli where mu is exactly 0 or 1 (each such pixel should contribute 0)",
        rtol=1e-5,
        atol=1e-4 * saturated.sum().item(),
    )


# ------------------------------------------------------------------ 1.2 log_likelihood_normal


def expected_normal(mu, logvar, z) -> torch.Tensor:
    """(batch,) log N(z; mu, exp(logvar)) summed over every non-batch dimension, by
    torch.distributions."""
    log_p = normal(mu, logvar).log_prob(z.double())
    return log_p.reshape(log_p.shape[0], -1).sum(1)


@pytest.mark.item("1.2")
@pytest.mark.points(2)
def test_normal_values(sandbox):
    """log_likelihood_normal sums log N(z; mu, exp(logvar)) over features, logvar a log-variance"""
    mu, logvar, z, _ = gaussian_params((16, 7), seed=4)
    z = z * 2
    got = one_output(
        q1_call(sandbox, "log_likelihood_normal", mu, logvar, z), "log_likelihood_normal", 16
    )
    assert_close(
        got[0],
        expected_normal(mu, logvar, z),
        "log_likelihood_normal(mu, logvar, z)",
        rtol=1e-6,
        atol=1e-6,
    )


@pytest.mark.item("1.2")
@pytest.mark.points(1)
def test_normal_images(sandbox):
    """log_likelihood_normal flattens (batch, 1, 28, 28) inputs and sums all 784 features"""
    mu, logvar, z, _ = gaussian_params((4, 1, 28, 28), seed=5, dtype=torch.float32)
    got = one_output(
        q1_call(sandbox, "log_likelihood_normal", mu, logvar, z),
        "log_likelihood_normal on images",
        4,
    )
    assert_close(
        got[0],
        expected_normal(mu, logvar, z),
        "log_likelihood_normal on images",
        rtol=1e-5,
        atol=1e-3,
    )


@pytest.mark.item("1.2")
@pytest.mark.points(1)
def test_normal_extreme_logvar(sandbox):
    """log_likelihood_normal stays exact for log-variances of -30 and +30"""
    logvar = torch.tensor([[-30.0, 30.0, 0.0], [30.0, -30.0, -30.0]])
    mu = torch.tensor([[0.0, 0.0, 1.0], [-5.0, 2.0, 0.0]])
    z = torch.tensor([[1e-7, 1e6, 1.5], [3e6, 2.0 + 2e-7, -3e-7]])
    got = one_output(
        q1_call(sandbox, "log_likelihood_normal", mu, logvar, z), "log_likelihood_normal", 2
    )
    assert_close(
        got[0],
        expected_normal(mu, logvar, z),
        "log_likelihood_normal with log-variances of -30 and +30",
        rtol=1e-5,
        atol=1e-4,
    )


# ------------------------------------------------------------------ 1.3 log_mean_exp


def expected_lme(y: torch.Tensor) -> torch.Tensor:
    """(rows,) log (1/K) sum_k exp(y_k) of y (rows, K), in float64."""
    y = y.double()
    return torch.logsumexp(y, dim=1) - math.log(y.shape[1])


@pytest.mark.item("1.3")
@pytest.mark.points(2)
def test_log_mean_exp_values(sandbox):
    """log_mean_exp gives log (1/K) sum_k exp(y_k) for each row, for K = 1 and K > 1"""
    gen = torch.Generator().manual_seed(6)
    for k in (9, 1):
        y = torch.randn(8, k, generator=gen, dtype=torch.float64) * 3
        got = one_output(q1_call(sandbox, "log_mean_exp", y), "log_mean_exp", 8)
        assert_close(
            got[0],
            expected_lme(y),
            f"log_mean_exp of a (8, {k}) input",
            rtol=1e-6,
            atol=1e-7,
            counts=[Count(k, f"the {k} values of a row")],
            known=without_maximum(y),
        )


@pytest.mark.item("1.3")
@pytest.mark.points(2)
def test_log_mean_exp_stable(sandbox):
    """log_mean_exp is exact for values of +-1e4, where exp() overflows or underflows"""
    gen = torch.Generator().manual_seed(7)
    offsets = torch.randn(4, 6, generator=gen) * 2
    y = offsets + torch.tensor([[1e4], [-1e4], [0.0], [5e3]])  # each row needs its own shift
    got = one_output(
        q1_call(sandbox, "log_mean_exp", y),
        "log_mean_exp of values near +-1e4",
        4,
        nonfinite="exp overflowed or underflowed; subtract each row's own maximum before exp "
        "and add it back after the log",
    )
    assert_close(
        got[0],
        expected_lme(y),
        "log_mean_exp of values near +-1e4",
        rtol=1e-6,
        atol=1e-4,
        counts=[Count(6, "the 6 values of a row")],
        known=without_maximum(y),
    )


def without_maximum(y: torch.Tensor) -> dict:
    """The slip of subtracting each row's maximum and never adding it back, and its value."""
    return {
        "that is the result without each row's maximum: after the log, add back the maximum "
        "that you subtracted": expected_lme(y) - y.double().max(dim=1).values
    }


# ------------------------------------------------------------- 1.4 kl_gaussian_gaussian_analytic


@pytest.mark.item("1.4")
@pytest.mark.points(2)
def test_kl_analytic_values(sandbox):
    """kl_gaussian_gaussian_analytic is KL(q || p) summed over dimensions, q given first"""
    params = gaussian_params((16, 6), seed=8)
    got = one_output(
        q1_call(sandbox, "kl_gaussian_gaussian_analytic", *params),
        "kl_gaussian_gaussian_analytic",
        16,
    )
    assert_close(
        got[0],
        expected_kl(*params),
        "kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p)",
        rtol=1e-6,
        atol=1e-6,
    )


@pytest.mark.item("1.4")
@pytest.mark.points(1)
def test_kl_analytic_flattens(sandbox):
    """kl_gaussian_gaussian_analytic flattens (batch, 3, 4) inputs and sums all 12 dimensions"""
    params = gaussian_params((5, 3, 4), seed=9, dtype=torch.float32)
    got = one_output(
        q1_call(sandbox, "kl_gaussian_gaussian_analytic", *params),
        "kl_gaussian_gaussian_analytic",
        5,
    )
    assert_close(
        got[0],
        expected_kl(*params),
        "kl_gaussian_gaussian_analytic of (5, 3, 4) inputs",
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.item("1.4")
@pytest.mark.points(1)
def test_kl_analytic_extreme_logvar(sandbox):
    """kl_gaussian_gaussian_analytic stays exact for log-variances of -30 and +30"""
    lv = torch.tensor([-30.0, 0.0, 30.0])
    logvar_q, logvar_p = torch.cartesian_prod(lv, lv).T.reshape(2, 1, 9)  # every pair, (1, 9)
    mu_q = torch.tensor([[0.0, 1.0, -2.0, 1e-7, 0.0, 3.0, 1e6, -1e6, 0.5]])
    mu_p = torch.zeros_like(mu_q)
    args = [t.expand(3, 9).contiguous() for t in (mu_q, logvar_q, mu_p, logvar_p)]
    args[0] = args[0] * torch.tensor([[1.0], [0.0], [-1.0]])
    got = one_output(
        q1_call(sandbox, "kl_gaussian_gaussian_analytic", *args), "kl_gaussian_gaussian_analytic", 3
    )
    assert_close(
        got[0],
        expected_kl(*args),
        "kl_gaussian_gaussian_analytic with log-variances of -30 and +30",
        rtol=1e-5,
        atol=1e-4,
    )


# ------------------------------------------------------------------- 1.5 kl_gaussian_gaussian_mc

SETTINGS, COPIES = 6, 400  # parameter settings, and rows per setting: the rows are the repeats


def mc_inputs(copies: int = COPIES) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Each of SETTINGS (1, 4) parameter sets repeated `copies` times; and their exact KLs."""
    params = gaussian_params((SETTINGS, 4), seed=10, dtype=torch.float32)
    rows = [p.repeat(copies, 1) for p in params]  # (copies * SETTINGS, 4), setting-minor
    return rows, expected_kl(*params)


def per_setting(values: torch.Tensor, copies: int = COPIES) -> torch.Tensor:
    """(copies * SETTINGS,) values of one call -> (copies, SETTINGS)."""
    return values.reshape(copies, SETTINGS)


@pytest.mark.item("1.5")
@pytest.mark.points(0.5)
@pytest.mark.parametrize("num_samples", [1, 5])
def test_kl_mc_expectation(sandbox, num_samples):
    """kl_gaussian_gaussian_mc averages to the exact KL, within standard errors"""
    rows, exact = mc_inputs()
    result = q1_call(sandbox, "kl_gaussian_gaussian_mc", *rows, num_samples, seed=11)
    got = one_output(result, "kl_gaussian_gaussian_mc", rows[0].shape[0])
    assert_same_mean(
        per_setting(got[0]),
        exact.expand(2, SETTINGS),
        f"kl_gaussian_gaussian_mc with num_samples={num_samples}, averaged over "
        f"{COPIES} examples with the same parameters",
        counts=[Count(num_samples, f"the {num_samples} samples")],
        draws="examples",
    )


@pytest.mark.item("1.5")
@pytest.mark.points(1)
def test_kl_mc_fresh_samples(sandbox):
    """kl_gaussian_gaussian_mc draws new samples in every call and for every example"""
    rows, _ = mc_inputs(copies=8)
    got = one_output(
        q1_call(sandbox, "kl_gaussian_gaussian_mc", *rows, repeat=3, seed=12),
        "kl_gaussian_gaussian_mc with the default num_samples",
        rows[0].shape[0],
    )
    assert_random(got, "kl_gaussian_gaussian_mc")
    same = (per_setting(got[0], 8) == per_setting(got[0], 8)[0]).all(0)
    if same.any():
        fail(
            "kl_gaussian_gaussian_mc gave identical estimates for examples with identical "
            "parameters: draw the noise for every example (the full expanded shape)"
        )


@pytest.mark.item("1.5")
@pytest.mark.points(1)
def test_kl_mc_variance_shrinks(sandbox):
    """The variance of kl_gaussian_gaussian_mc falls as 1 / num_samples"""
    rows, _ = mc_inputs()
    variances = []
    for num_samples in (1, 8):
        result = q1_call(sandbox, "kl_gaussian_gaussian_mc", *rows, num_samples, seed=13)
        got = one_output(result, "kl_gaussian_gaussian_mc", rows[0].shape[0])
        variances.append(per_setting(got[0]).double().var(0))
    ratio = (variances[0] / variances[1].clamp_min(1e-30)).median().item()
    if not 4 <= ratio <= 16:
        fail(
            f"with num_samples=8 the estimate's variance should be 8 times smaller than with "
            f"num_samples=1, but it is {ratio:.2g} times smaller: average over num_samples "
            "independent samples of z ~ q for every example"
        )


GRAD_SAMPLES = 8  # samples per example in the gradient test: a standard error 8 times smaller


@refcache.cached
def expected_kl_gradients() -> torch.Tensor:
    """(2, SETTINGS, 4) the gradients of the exact KL of every setting of `mc_inputs` with
    respect to mu_q and logvar_q: (mu_q - mu_p) / var_p and (var_q / var_p - 1) / 2, which
    the reparameterized estimate has as its expectation."""
    params = [p.double() for p in gaussian_params((SETTINGS, 4), seed=10, dtype=torch.float32)]
    mu_q, logvar_q = (p.requires_grad_(True) for p in params[:2])
    kl = expected_kl(mu_q, logvar_q, *params[2:]).sum()
    return torch.stack(torch.autograd.grad(kl, [mu_q, logvar_q]))


@pytest.mark.item("1.5")
@pytest.mark.points(1)
def test_kl_mc_reparameterized(sandbox):
    """Gradients reach mu_q and logvar_q through z = mu_q + sigma_q * eps (reparameterization)"""
    rows, _ = mc_inputs()
    grad = Grad(output=0, args=(0, 1))
    result = q1_call(sandbox, "kl_gaussian_gaussian_mc", *rows, GRAD_SAMPLES, grad=grad, seed=14)
    one_output(result, "kl_gaussian_gaussian_mc", rows[0].shape[0])
    grads = result.runs[0].grads
    if not grads.connected or None in grads.args:
        fail(
            "no gradient flows from kl_gaussian_gaussian_mc back to mu_q and logvar_q: keep "
            "the estimate a function of them, and build z = mu_q + exp(logvar_q / 2) * eps"
        )
    got = torch.stack(grads.args)  # (2, COPIES * SETTINGS, 4): d/dmu_q, d/dlogvar_q
    check_shape(got[0], rows[0].shape, "the gradient with respect to mu_q")
    per_copy = got.reshape(2, COPIES, SETTINGS * 4).transpose(0, 1).reshape(COPIES, -1)
    want = expected_kl_gradients().reshape(1, -1).expand(2, -1)
    assert_same_mean(
        per_copy,
        want,
        f"the gradient of kl_gaussian_gaussian_mc (num_samples={GRAD_SAMPLES}) w.r.t. mu_q, "
        "then logvar_q, per parameter setting",
        counts=[Count(GRAD_SAMPLES, f"the {GRAD_SAMPLES} samples")],
        known={
            "it averages 0, as when z carries no gradient: build z = mu_q + exp(logvar_q / 2) "
            "* eps with eps ~ N(0, I) (torch.normal and .sample() pass no gradient)": torch.zeros(
                want.shape[1]
            )
        },
        draws="examples",
    )
