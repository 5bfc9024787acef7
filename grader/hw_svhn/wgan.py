"""The WGAN's provided networks written from their weights, and weights that make them testable.

The hidden tests compute expected values with these copies, so they need nothing of
q3_model.py; a project test checks that they agree with q3_model.Critic and Generator.
"""

import math

import torch
import torch.nn.functional as F

CRITIC_LAYERS = ("net.0", "net.2", "net.4", "net.6")
CRITIC_SHAPES = ((64, 3, 4, 4), (128, 64, 4, 4), (256, 128, 4, 4), (1, 256, 4, 4))
SLOPE = 0.2
# the generator's transposed convolutions (in, out, 4, 4), each followed by batch norm and ReLU
# but the last (tanh); (stride, padding) of each
GEN_CONVS = ("net.0", "net.3", "net.6", "net.9")
GEN_NORMS = ("net.1", "net.4", "net.7")
GEN_SHAPES = ((100, 256, 4, 4), (256, 128, 4, 4), (128, 64, 4, 4), (64, 3, 4, 4))
GEN_STEPS = ((1, 0), (2, 1), (2, 1), (2, 1))
Z_DIM = 100


def critic_forward(state: dict, x: torch.Tensor) -> torch.Tensor:
    """Critic: (batch, 3, 32, 32) or (batch, 3072) -> (batch,)."""
    h = x.reshape(-1, 3, 32, 32)
    for i, layer in enumerate(CRITIC_LAYERS):
        last = i == len(CRITIC_LAYERS) - 1
        h = F.conv2d(
            h,
            state[f"{layer}.weight"],
            state[f"{layer}.bias"],
            stride=1 if last else 2,
            padding=0 if last else 1,
        )
        if not last:
            h = F.leaky_relu(h, SLOPE)
    return h.reshape(-1)


def generator_forward(state: dict, z: torch.Tensor) -> torch.Tensor:
    """Generator in eval mode (batch norm with running statistics): (batch, 100) -> images."""
    h = z.reshape(-1, Z_DIM, 1, 1)
    for i, (conv, (stride, padding)) in enumerate(zip(GEN_CONVS, GEN_STEPS)):
        h = F.conv_transpose2d(h, state[f"{conv}.weight"], state[f"{conv}.bias"], stride, padding)
        if i < len(GEN_NORMS):
            n = GEN_NORMS[i]
            h = F.relu(
                F.batch_norm(
                    h,
                    state[f"{n}.running_mean"],
                    state[f"{n}.running_var"],
                    state[f"{n}.weight"],
                    state[f"{n}.bias"],
                    training=False,
                )
            )
    return torch.tanh(h)


def _uniform(shape: tuple, fan_in: int, gen: torch.Generator) -> torch.Tensor:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for convolutions."""
    return (torch.rand(shape, generator=gen) * 2 - 1) / math.sqrt(fan_in)


def critic_state(seed: int) -> dict:
    """A critic with PyTorch-like random weights: a generic, non-linear T."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for layer, shape in zip(CRITIC_LAYERS, CRITIC_SHAPES):
        fan_in = shape[1] * shape[2] * shape[3]
        state[f"{layer}.weight"] = _uniform(shape, fan_in, gen) * 2
        state[f"{layer}.bias"] = _uniform(shape[:1], fan_in, gen)
    return state


def affine_critic_state(grad_norm: float, seed: int) -> dict:
    """A critic that is affine on [-1, 1]^3072, with ||grad T|| = grad_norm everywhere.

    The first layer's bias exceeds what its weights can take away from inputs in [-1, 1], and
    the next two layers have non-negative weights and positive biases: every pre-activation is
    positive, so LeakyReLU is the identity throughout. The Lipschitz penalty is then
    relu(grad_norm - 1)^2 at every point, whichever t a student draws.
    """
    gen = torch.Generator().manual_seed(seed)
    w1 = _uniform(CRITIC_SHAPES[0], 48, gen)
    state = {"net.0.weight": w1, "net.0.bias": w1.abs().sum((1, 2, 3)) + 0.1}
    for layer, shape in zip(CRITIC_LAYERS[1:3], CRITIC_SHAPES[1:3]):
        fan_in = shape[1] * shape[2] * shape[3]
        state[f"{layer}.weight"] = torch.rand(shape, generator=gen) * 2 / fan_in
        state[f"{layer}.bias"] = torch.full(shape[:1], 0.1)
    state["net.6.weight"] = _uniform(CRITIC_SHAPES[3], 4096, gen)
    state["net.6.bias"] = torch.zeros(1)
    g = affine_gradient(state)
    state["net.6.weight"] = state["net.6.weight"] * (grad_norm / g.norm())
    with torch.no_grad():  # T(0) = 0: scores of order one, no large constant to cancel
        state["net.6.bias"] = -critic_forward(state, torch.zeros(1, 3072)).reshape(1)
    return state


def affine_gradient(state: dict) -> torch.Tensor:
    """(3072,) grad T of an affine critic, taken at the origin."""
    x = torch.zeros(1, 3072, requires_grad=True)
    (g,) = torch.autograd.grad(critic_forward(state, x).sum(), x)
    return g[0]


def generator_state(seed: int) -> dict:
    """A generator with random weights and batch-norm statistics, outputs not saturated."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for conv, shape in zip(GEN_CONVS, GEN_SHAPES):
        fan_in = shape[1] * shape[2] * shape[3]
        state[f"{conv}.weight"] = _uniform(shape, fan_in, gen) * 2
        state[f"{conv}.bias"] = _uniform(shape[1:2], fan_in, gen)
    for norm, shape in zip(GEN_NORMS, GEN_SHAPES):
        c = shape[1]
        state[f"{norm}.weight"] = 0.5 + torch.rand(c, generator=gen)
        state[f"{norm}.bias"] = torch.randn(c, generator=gen) * 0.2
        state[f"{norm}.running_mean"] = torch.randn(c, generator=gen) * 0.1
        state[f"{norm}.running_var"] = 0.2 + torch.rand(c, generator=gen) * 0.3
        state[f"{norm}.num_batches_tracked"] = torch.tensor(100)
    return state
