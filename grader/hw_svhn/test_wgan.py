"""Items 3.1 and 3.2: the WGAN-LP objectives on SVHN images and the two interpolations.

critic_loss runs with hw_vae's trusted vf_wasserstein_distance and lp_reg, on the provided
Critic loaded with weights that make it affine on [-1, 1]^3072 (wgan.affine_critic_state):
its gradient norm is then the same at every point, so the Lipschitz penalty is exact whatever
t the penalty draws, and the loss and its gradient are compared exactly. generator_loss and
interpolations are deterministic and compared exactly too.
"""

import dataclasses
import functools

import pytest
import torch

from grader import calls
from grader.checks import Count, assert_close, fail, outputs
from grader.hw_svhn import harness, wgan
from grader.messages import CallResult, Grad, Init

CRITIC = Init("q3_model:Critic", {}, arg=0)
GENERATOR = Init("q3_model:Generator", {}, arg=0)
FALLBACK_Q2 = {"q2_solution": "_reference.q2_solution"}
PARAMS = ["net.0.bias", "net.6.weight"]
BATCH = 24  # not 32: a (batch, 1) t broadcast against unflattened images must fail loudly


def images(n: int, seed: int) -> torch.Tensor:
    """(n, 3, 32, 32) images of uniform noise in [-1, 1], drawn from `seed`."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 32, 32, generator=gen) * 2 - 1


def loss_call(sandbox, name: str, state: dict, *args, grad: Grad | None = None) -> CallResult:
    """The student's q3_solution.<name>(critic, *args) on a Critic loaded with `state`."""
    grad = grad or Grad(output=0, params=tuple(PARAMS))  # lp_reg's autograd.grad needs grad
    return calls.function(
        sandbox,
        f"q3_solution:{name}",
        *args,
        init=dataclasses.replace(CRITIC, state=state),
        patches=harness.TRUSTED_Q2,
        fallbacks=FALLBACK_Q2,
        grad=grad,
    )


def value(result: dict, name: str) -> torch.Tensor:
    """The (repeats,) values of the student's loss `name`, one number per call."""
    (got,) = outputs(result, 1, name, scalars=True)
    return got


def expected_critic_loss(state: dict, real, fake, lp_coeff: float, grad_norm: float):
    """0-dim critic loss of the affine critic `state`, whose gradient norm is `grad_norm`
    everywhere: -(E T(real) - E T(fake)) + lp_coeff max(grad_norm - 1, 0)^2."""
    scores = wgan.critic_forward(state, real).mean() - wgan.critic_forward(state, fake).mean()
    return -scores + lp_coeff * max(grad_norm - 1, 0.0) ** 2


@functools.cache
def affine(grad_norm: float) -> dict:
    """Weights that make the Critic affine on [-1, 1]^3072 with gradient norm `grad_norm`."""
    return wgan.affine_critic_state(grad_norm, seed=int(grad_norm * 10))


@pytest.mark.item("3.1")
@pytest.mark.points(1)
def test_critic_loss_value(sandbox):
    """critic_loss = -(E T(real) - E T(fake)) + lp_coeff * lp_reg, on flattened images"""
    real, fake = images(BATCH, 1), images(BATCH, 2)
    for grad_norm, lp_coeff in ((2.0, 10.0), (2.0, 3.0), (0.5, 10.0)):
        got = value(
            loss_call(sandbox, "critic_loss", affine(grad_norm), real, fake, lp_coeff),
            "critic_loss",
        )
        with torch.no_grad():
            want = expected_critic_loss(affine(grad_norm), real, fake, lp_coeff, grad_norm)
        assert_close(
            got,
            want.reshape(1),
            f"critic_loss with lp_coeff = {lp_coeff} for a "
            f"critic whose gradient norm is {grad_norm} everywhere (so that lp_reg is "
            f"{max(grad_norm - 1, 0) ** 2:g})",
            rtol=1e-4,
            atol=1e-3,
        )


def expected_critic_gradient(real, fake, lp_coeff: float) -> dict:
    """parameter of PARAMS -> the gradient of the critic loss on affine(2.0), the
    penalty's path through the critic's input gradient included."""
    state = {k: v.clone().requires_grad_(True) for k, v in affine(2.0).items()}
    x = torch.zeros(1, 3072, requires_grad=True)  # the critic is affine: any point will do
    (g,) = torch.autograd.grad(wgan.critic_forward(state, x).sum(), x, create_graph=True)
    scores = wgan.critic_forward(state, real).mean() - wgan.critic_forward(state, fake).mean()
    loss = -scores + lp_coeff * torch.relu(g.norm() - 1) ** 2
    grads = torch.autograd.grad(loss, [state[p] for p in PARAMS])
    return dict(zip(PARAMS, grads))


@pytest.mark.item("3.1")
@pytest.mark.points(1)
def test_critic_loss_gradient(sandbox):
    """critic_loss can be minimised: its gradient reaches the critic through both terms"""
    real, fake = images(BATCH, 3), images(BATCH, 4)
    run = loss_call(sandbox, "critic_loss", affine(2.0), real, fake, 10.0).runs[0]
    if not run.grads.connected:
        fail(
            "critic_loss returned a value with no gradient: keep it a function of the "
            "critic's scores, without .item(), .detach() or torch.no_grad()"
        )
    for param, want in expected_critic_gradient(real, fake, 10.0).items():
        assert_close(
            run.grads.params[param],
            want,
            f"the gradient of critic_loss with respect to the critic's {param}",
            rtol=1e-3,
            atol=1e-4 * want.abs().max().item(),
        )


@pytest.mark.item("3.1")
@pytest.mark.points(1)
def test_generator_loss(sandbox):
    """generator_loss = -E T(fake), its gradient -T'(fake) / batch flowing back to the images"""
    state, fake = wgan.critic_state(seed=5), images(16, 5)
    result = loss_call(sandbox, "generator_loss", state, fake, grad=Grad(output=0, args=(1,)))
    got = value(result, "generator_loss")
    fake_ref = fake.clone().requires_grad_(True)
    want = -wgan.critic_forward(state, fake_ref).mean()
    (want_grad,) = torch.autograd.grad(want, fake_ref)
    batch = [Count(len(fake), f"the batch of {len(fake)} images")]
    assert_close(
        got, want.detach().reshape(1), "generator_loss", rtol=1e-4, atol=1e-5, counts=batch
    )
    (got_grad,) = result.runs[0].grads.args
    if got_grad is None:
        fail(
            "generator_loss has no gradient with respect to the generated images: the "
            "generator could not learn from it"
        )
    assert_close(
        got_grad,
        want_grad,
        "the gradient of generator_loss with respect to the generated images",
        rtol=1e-4,
        atol=1e-7,
        counts=batch,
    )


@pytest.mark.item("3.2")
@pytest.mark.points(1)
def test_interpolations(sandbox):
    """latent: g(a z0 + (1 - a) z1); data: a g(z0) + (1 - a) g(z1), for each alpha a"""
    state = wgan.generator_state(seed=1)
    gen = torch.Generator().manual_seed(6)
    z0, z1 = torch.randn(2, wgan.Z_DIM, generator=gen)
    alphas = torch.linspace(0, 1, 11)
    result = calls.function(
        sandbox,
        "q3_solution:interpolations",
        z0,
        z1,
        alphas,
        init=dataclasses.replace(GENERATOR, state=state),
        fallbacks=FALLBACK_Q2,
    )
    latent, data = (o[0] for o in outputs(result, 2, "interpolations"))
    a = alphas.reshape(-1, 1)
    with torch.no_grad():
        want_latent = wgan.generator_forward(state, a * z0 + (1 - a) * z1)
        x0, x1 = wgan.generator_forward(state, torch.stack([z0, z1]))
        want_data = a.reshape(-1, 1, 1, 1) * x0 + (1 - a.reshape(-1, 1, 1, 1)) * x1
    assert_close(
        latent,
        want_latent,
        "the latent-space interpolation (row 0 is alpha = 0, which is g(z1))",
        rtol=1e-4,
        atol=1e-5,
    )
    assert_close(
        data,
        want_data,
        "the data-space interpolation (row 0 is alpha = 0, which is g(z1))",
        rtol=1e-4,
        atol=1e-5,
    )
