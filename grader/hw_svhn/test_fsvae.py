"""Item 1.2: FSVAE.negative_elbo_bound, with the trusted helpers of codebase/utils.py.

Function level: on a model whose decoder ignores z (and whose encoder ignores x), every term
is deterministic and compared exactly. Model level: on the project's trained weights, the
analytic KL is exact and the one-sample reconstruction term is compared with the reference
expectation within standard errors, as are its gradients. Then a short training on the real
SVHN subset must lower the loss without NaN.
"""

import functools

import pytest
import torch

from grader import calls, refcache
from grader.checks import (
    Count,
    assert_batch_mean,
    assert_close,
    assert_random,
    assert_same_mean,
    batch_means,
    check_finite,
    fail,
)
from grader.checks import outputs as stacked_outputs
from grader.hw_svhn import harness
from grader.messages import Grad, Init

pytestmark = pytest.mark.item("1.2")
WHAT = "FSVAE.negative_elbo_bound"
BATCH = 32
REPEATS, REF_REPEATS = 100, 400
GRAD_REPEATS, REF_GRAD_REPEATS = 30, 200
ENC_BIAS = "enc.net.4.bias"  # (2 z_dim,): the means' half and the variances' half of q(z|x,y)
SMOKE_STEPS, SMOKE_IMAGES, SMOKE_BATCH = 20, 512, 32
PARTS, PART_REPEATS = (8, 24), 10  # the batch split in two, for the batch-mean contract
COUNTS = [Count(BATCH, f"the batch of {BATCH} images"), Count(3072, "the 3072 pixels")]


def images():
    """(BATCH, 3072) synthetic SVHN images and (BATCH, 10) one-hot labels."""
    return harness.synthetic_svhn(BATCH)


def student(sandbox, state, repeat: int = REPEATS, grad=None, seed: int = 11, rows=None):
    """The reply and (nelbo, kl_z, rec), each (repeat, ...), on images()[rows]: nelbo checked
    to be one number per call, kl_z and rec as returned (see `terms`)."""
    x, y = (t[rows] if rows is not None else t for t in images())
    result = harness.fsvae_call(
        sandbox, "negative_elbo_bound", state, x, y, repeat=repeat, seed=seed, grad=grad
    )
    return result, stacked_outputs(result, 3, WHAT, scalars=(0,))


def terms(values: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """kl_z and rec of (nelbo, kl_z, rec), each checked to be a batch mean."""
    return batch_means(values[1], "kl_z"), batch_means(values[2], "rec")


@functools.cache
def blind_state() -> dict:
    """The trained weights with the last layers' weights zeroed: q(z|x,y) and mu(y, z) are
    then their biases, the same for every input."""
    state = dict(harness.fsvae_weights())
    for layer in ("enc.net.4.weight", "dec.net.4.weight"):
        state[layer] = torch.zeros_like(state[layer])
    return state


@refcache.cached
def reference(blind: bool = False) -> list[torch.Tensor]:
    """(nelbo, kl, rec) of the reference over REF_REPEATS calls, each (REF_REPEATS,)."""
    model = harness.reference_fsvae(blind_state() if blind else harness.fsvae_weights())
    torch.manual_seed(1234)
    with torch.no_grad():
        runs = [
            model.negative_elbo_bound(*images()) for _ in range(REF_REPEATS if not blind else 2)
        ]
    return [torch.stack([r[i] for r in runs]) for i in range(3)]


@pytest.fixture(scope="module")
def sampled(sandbox):
    """The student's (nelbo, kl_z, rec) over REPEATS calls on the trained weights."""
    return student(sandbox, harness.fsvae_weights())[1]


@pytest.mark.points(0.5)
def test_fsvae_returns(sandbox, sampled):
    """negative_elbo_bound returns (nelbo, kl_z, rec), 0-dim batch means, nelbo = kl_z + rec"""
    start, parts = 0, []
    for size in PARTS:
        rows = slice(start, start + size)
        _, (nelbo, kl, rec) = student(
            sandbox, harness.fsvae_weights(), repeat=PART_REPEATS, seed=20 + start, rows=rows
        )
        if kl.dim() == rec.dim() == 1:  # other shapes cost the tests of kl_z and rec
            assert_close(nelbo, kl + rec, "nelbo compared with kl_z + rec", rtol=1e-5, atol=1e-3)
        parts.append(nelbo)
        start += size
    assert_batch_mean(sampled[0], parts, list(PARTS), "nelbo")


@pytest.mark.points(1)
def test_fsvae_terms_exact_on_a_blind_model(sandbox):
    """rec is -log N(x; mu, 0.1 I) summed over the 3072 pixels, kl_z the analytic KL to N(0, I)"""
    kl, rec = terms(student(sandbox, blind_state(), repeat=2)[1])
    _, ref_kl, ref_rec = reference(blind=True)
    assert_close(
        rec,
        ref_rec,
        "rec where mu(y, z) is the same for every z (a decoder that "
        "ignores z), which must be -log N(x; mu, 0.1 I) summed over all 3072 pixels "
        "(variance 0.1, not a standard deviation of 0.1), averaged over the batch",
        rtol=1e-4,
        atol=1e-2,
        counts=COUNTS,
    )
    assert_close(kl, ref_kl, "kl_z for a fixed q(z|x,y)", rtol=1e-4, atol=1e-4, counts=COUNTS)


@pytest.mark.points(0.5)
def test_fsvae_kl_on_trained_weights(sampled):
    """kl_z is the analytic KL(q(z|x,y) || N(0, I)) on the trained model, the same every call"""
    kl, _ = terms(sampled)
    ref_kl = reference()[1]
    assert_close(
        kl, ref_kl[: len(kl)], "kl_z (analytic, batch mean)", rtol=1e-4, atol=1e-4, counts=COUNTS
    )


@pytest.mark.points(1)
def test_fsvae_rec_on_trained_weights(sampled):
    """rec uses one fresh z ~ q(z|x,y) per example, decoded with the label y"""
    _, rec = terms(sampled)
    assert_random(rec, "rec")
    assert_same_mean(
        rec,
        reference()[2],
        "rec, the batch mean of -log p(x|y,z) with z ~ q(z|x,y)",
        counts=COUNTS,
    )


@refcache.cached
def reference_gradient() -> torch.Tensor:
    """(REF_GRAD_REPEATS, 2 z_dim) gradients of the reference nelbo w.r.t. ENC_BIAS."""
    model = harness.reference_fsvae(harness.fsvae_weights())
    bias = dict(model.named_parameters())[ENC_BIAS]
    torch.manual_seed(4321)
    grads = []
    for _ in range(REF_GRAD_REPEATS):
        model.zero_grad(set_to_none=True)
        model.negative_elbo_bound(*images())[0].backward()
        grads.append(bias.grad.detach().clone())
    return torch.stack(grads)


@pytest.mark.points(0.5)
def test_fsvae_gradients(sandbox):
    """The gradient of nelbo reaches the encoder through z = m + sqrt(v) eps (reparameterized)"""
    grad = Grad(output=0, params=(ENC_BIAS,))
    result, _ = student(sandbox, harness.fsvae_weights(), repeat=GRAD_REPEATS, grad=grad)
    got = torch.stack([r.grads.params[ENC_BIAS] for r in result.runs])
    if not got.abs().sum() > 0:
        fail(f"no gradient reaches {ENC_BIAS}: keep z = m + sqrt(v) eps inside the graph")
    assert_same_mean(
        got,
        reference_gradient(),
        f"the gradient of nelbo w.r.t. {ENC_BIAS}",
        z=5.5,
        counts=COUNTS[:1],
    )


@functools.cache
def initial_state() -> dict:
    """A freshly initialised FSVAE (seeded), the starting point of the smoke training."""
    torch.manual_seed(0)
    (module,) = harness.reference.load(harness.HW, harness.FSVAE[0])
    return {k: v.detach().clone() for k, v in module.FSVAE().state_dict().items()}


@pytest.mark.points(0.5)
def test_fsvae_trains_on_svhn(sandbox, svhn_subset):
    """Training on real SVHN images with your bound lowers the loss and stays finite"""
    x = svhn_subset[:SMOKE_IMAGES].permute(0, 3, 1, 2).reshape(SMOKE_IMAGES, -1)  # uint8
    init = Init(f"{harness.FSVAE[0]}:{harness.FSVAE[1]}", {}, initial_state(), arg=0)
    result = calls.function(
        sandbox,
        "codebase.train:train",
        x,
        harness.fake_labels(len(x)),
        SMOKE_STEPS,
        init=init,
        patches=harness.TRUSTED_UTILS,
        fallbacks={"codebase.utils": "_reference.utils"},
        kwargs={"batch_size": SMOKE_BATCH, "progress": False},
    )
    (losses,) = result.runs[0].outputs
    check_finite(losses, f"the training loss over {SMOKE_STEPS} steps")
    first, last = losses[:5].mean().item(), losses[-5:].mean().item()
    if not last < first - 100:
        fail(
            f"the loss went from {first:.1f} (first 5 steps) to {last:.1f} (last 5 of "
            f"{SMOKE_STEPS}); a correct bound falls by several hundred nats here"
        )
