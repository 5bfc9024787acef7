"""Item 4.2: SSVAE.negative_elbo_bound on trained weights.

kl_y and kl_z are exact (the sum over the ten labels is exact, KL terms analytic); rec uses
one z per (x, y) pair, so its average over many calls is compared with the reference.
"""

import pytest
import torch

from grader import refcache
from grader.checks import assert_close, assert_random, assert_same_mean, fail, outputs
from grader.hw_gmvae_iwae_ssvae import harness
from grader.messages import Grad

# rec's standard error is about 0.1 nats with 40 calls; with q(y|x) detached from the label
# weights, the classifier's gradient is about 10 standard errors off (the reference's 160 calls
# set most of that error, the student's gradient being nearly deterministic then), and with z
# detached the encoder's is over 40 off.
REPEATS, REF_REPEATS = 40, 400
GRAD_REPEATS, REF_GRAD_REPEATS = 24, 160
CLS_BIAS = "cls.net.4.bias"  # (10,): the gradient of the bound reaches q(y|x) here
# parameter -> what its gradient needs; the encoder's gradient catches a detached z, which
# leaves every returned value (and the classifier's gradient) unchanged
GRAD_PARAMS = {
    CLS_BIAS: "weight the terms by q(y|x) inside the graph",
    harness.ENC_BIAS: "keep z = m + sqrt(v) eps inside the graph",
}
pytestmark = pytest.mark.item("4.2")


@refcache.cached
def reference() -> list[torch.Tensor]:
    model = harness.reference_model("ssvae", harness.load_weights("ssvae"))
    x = harness.synthetic_images()
    with torch.no_grad():
        return harness.reference_runs(lambda: model.negative_elbo_bound(x), REF_REPEATS)


def student(sandbox, weights, images, repeat=REPEATS, grad=None):
    result = harness.model_call(
        sandbox,
        "ssvae",
        "negative_elbo_bound",
        weights["ssvae"],
        images,
        repeat=repeat,
        grad=grad,
        seed=23,
    )
    return result, outputs(result, 4, "SSVAE.negative_elbo_bound", scalars=True)


@pytest.mark.points(2)
def test_ssvae_returns(sandbox, weights, images):
    """negative_elbo_bound returns (nelbo, kl_z, kl_y, rec), 0-dim, nelbo = kl_z + kl_y + rec"""
    _, values = student(sandbox, weights, images, repeat=3)
    for name, t in zip(("nelbo", "kl_z", "kl_y", "rec"), values):
        if t.dim() != 1:
            fail(f"{name} has shape {tuple(t.shape[1:])}: return a 0-dim tensor, the batch mean")
    nelbo, kl_z, kl_y, rec = values
    assert_close(
        nelbo, kl_z + kl_y + rec, "nelbo compared with kl_z + kl_y + rec", rtol=1e-5, atol=1e-4
    )


@pytest.mark.points(3)
def test_ssvae_kl_y(sandbox, weights, images):
    """kl_y is KL(q(y|x) || uniform over 10 labels), averaged over the batch"""
    _, (_, kl_z, kl_y, _) = student(sandbox, weights, images, repeat=2)
    want = reference()[2][:2]
    if torch.allclose(kl_z.double(), want.double(), rtol=1e-4, atol=1e-4):
        fail("the second value returned equals KL_y: the order is (nelbo, kl_z, kl_y, rec)")
    assert_close(kl_y, want, "kl_y", rtol=1e-4, atol=1e-4)


@pytest.mark.points(4)
def test_ssvae_kl_z(sandbox, weights, images):
    """kl_z is the q(y|x)-weighted sum over labels of KL(q(z|x,y) || N(0, I)), batch mean"""
    _, (_, kl_z, _, _) = student(sandbox, weights, images, repeat=2)
    assert_close(kl_z, reference()[1][:2], "kl_z", rtol=1e-4, atol=1e-3)


@pytest.mark.points(4)
def test_ssvae_rec(sandbox, weights, images):
    """rec is the q(y|x)-weighted -log p(x|z,y), one z ~ q(z|x,y) per label"""
    _, (_, _, _, rec) = student(sandbox, weights, images)
    assert_random(rec, "rec")
    assert_same_mean(rec, reference()[3], "rec")


@refcache.cached
def reference_gradients() -> dict:
    model = harness.reference_model("ssvae", harness.load_weights("ssvae"))
    return harness.reference_grads(
        model,
        "negative_elbo_bound",
        (harness.synthetic_images(),),
        list(GRAD_PARAMS),
        REF_GRAD_REPEATS,
    )


@pytest.mark.points(2)
def test_ssvae_gradients(sandbox, weights, images):
    """Gradients of nelbo reach q(y|x) through the label weights and q(z|x,y) through z"""
    params = list(GRAD_PARAMS)
    result, _ = student(
        sandbox, weights, images, repeat=GRAD_REPEATS, grad=Grad(output=0, params=tuple(params))
    )
    got, want = harness.student_grads(result, params), reference_gradients()
    for p, remedy in GRAD_PARAMS.items():
        if not got[p].abs().sum() > 0:
            fail(f"no gradient reaches {p}: {remedy}")
        assert_same_mean(
            harness.project(got[p]),
            want[p],
            f"the gradient of nelbo w.r.t. {p} ({remedy})",
            z=5.5,
        )
