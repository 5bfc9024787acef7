"""Requests that the hidden tests of hw_vae send to the worker, and the critics they run on.

A test of one q1 helper swaps in the trusted version of the four others (a student's
kl_gaussian_gaussian_mc may call log_likelihood_normal), so a bug costs its own item only.
The q2 functions take the critic as their third argument: the worker builds it from the
provided model.py and the state that the test sends (`init` with `arg`).
"""

import functools
import math

import torch
import torch.nn.functional as F

from grader.checks import run

HW = "hw_vae"
Q1_HELPERS = (
    "log_likelihood_bernoulli",
    "log_likelihood_normal",
    "log_mean_exp",
    "kl_gaussian_gaussian_analytic",
    "kl_gaussian_gaussian_mc",
)
# The provided Critic(in_size=2) of model.py: its Linear layers in order, their weights' shapes
# and LeakyReLU's negative slope.
LAYERS = ("net.0", "net.2", "net.4", "net.6")
SHAPES = ((256, 2), (256, 256), (256, 256), (1, 256))
SLOPE = 0.2


def q1_call(sandbox, name: str, *args, repeat: int = 1, seed: int = 0) -> dict:
    """Call the student's q1_solution.<name>, with the other helpers replaced by trusted ones."""
    trusted = {h: f"_reference.q1_solution:{h}" for h in Q1_HELPERS if h != name}
    request = {
        "op": "call",
        "target": f"q1_solution:{name}",
        "args": list(args),
        "repeat": repeat,
        "seed": seed,
        "patches": {"q1_solution": trusted},
    }
    return run(sandbox, request)


def critic_call(
    sandbox, name: str, state: dict, x, y, *, repeat: int = 1, seed: int = 0, grad=None
) -> dict:
    """Call the student's q2_solution.<name>(x, y, critic) on a Critic loaded with `state`."""
    request = {
        "op": "call",
        "target": f"q2_solution:{name}",
        "args": [x, y],
        "init": {"target": "model:Critic", "kwargs": {"in_size": 2}, "state": state, "arg": 2},
        "repeat": repeat,
        "seed": seed,
        "grad": grad,
    }
    return run(sandbox, request)


def critic_forward(state: dict, x: torch.Tensor) -> torch.Tensor:
    """The provided Critic's forward pass, written from its state: (batch, 2) -> (batch,).

    Linear-LeakyReLU(0.2) three times, then Linear to one value. The hidden tests compute with
    this copy, so they need nothing from solutions/; a project test checks that it agrees with
    model.Critic.
    """
    h = x
    for i, layer in enumerate(LAYERS):
        h = F.linear(h, state[f"{layer}.weight"], state[f"{layer}.bias"])
        if i < len(LAYERS) - 1:
            h = F.leaky_relu(h, SLOPE)
    return h.squeeze(-1)


def critic(state: dict):
    """x -> critic_forward(state, x)."""
    return functools.partial(critic_forward, state)


def critic_state(seed: int = 0, median_norm: float = 1.0, out_mean: float = 0.0) -> dict:
    """Weights for the provided Critic that make it bend within the handout's square.

    A Critic as PyTorch initialises it is almost affine over [0, 2] x [0, 1], with gradient
    norms near 0.03: every penalty would be 0 and the objectives would hardly tell bugs apart.
    Here the weights are drawn like PyTorch's, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), times a gain
    per layer: 4 on the first, which puts its kinks inside the square, 2.5 on the hidden ones,
    which keeps them; then the last layer is scaled so that the median gradient norm over the
    points of `scattered` is `median_norm` (for 1: from about 0.02 to 3), and its bias shifted
    so that T averages `out_mean` there.
    """
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for layer, (fan_out, fan_in), gain in zip(LAYERS, SHAPES, (4.0, 2.5, 2.5, 1.0)):
        bound = gain / math.sqrt(fan_in)
        state[f"{layer}.weight"] = (torch.rand(fan_out, fan_in, generator=gen) * 2 - 1) * bound
        state[f"{layer}.bias"] = (torch.rand(fan_out, generator=gen) * 2 - 1) * bound
    x = scattered(1024, seed=0).requires_grad_(True)
    (g,) = torch.autograd.grad(critic_forward(state, x).sum(), x)
    last = median_norm / g.norm(dim=1).median().item()
    state["net.6.weight"] = state["net.6.weight"] * last
    with torch.no_grad():
        shift = out_mean - critic_forward({**state, "net.6.bias": torch.zeros(1)}, x).mean()
    state["net.6.bias"] = shift.reshape(1)
    return state


def lipschitz_state(bound: float = 0.9) -> dict:
    """critic_state() scaled so that the product of its layers' spectral norms is `bound`.

    LeakyReLU's slopes are at most 1, so every gradient norm of this critic is below `bound`.
    """
    state = critic_state()
    product = 1.0
    for layer in LAYERS:
        product *= torch.linalg.matrix_norm(state[f"{layer}.weight"].double(), 2).item()
    scale = bound / product
    return {**state, "net.6.weight": state["net.6.weight"] * scale,
            "net.6.bias": state["net.6.bias"] * scale}


def points(theta: float, n: int, seed: int) -> torch.Tensor:
    """(n, 2) points (theta, u), u ~ U(0, 1): the handout's distributions p (theta = 0) and q."""
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 1, generator=gen)
    return torch.cat([torch.full_like(u, theta), u], dim=1)


def scattered(n: int, seed: int) -> torch.Tensor:
    """(n, 2) points spread over [-0.5, 2.5] x [-0.25, 1.25], around the handout's square."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 2, generator=gen) * torch.tensor([3.0, 1.5]) - torch.tensor([0.5, 0.25])
