"""Requests that the hidden tests of hw_svhn send to the worker, and the inputs they send.

Every call that reaches a helper of another file replaces it by the trusted one: the FSVAE's
bound runs with the trusted codebase/utils.py, the flow's log-density with the trusted
causal_mask, and the WGAN objectives with hw_vae's trusted objectives. A bug costs the points
of its own item once.
"""

import functools
from pathlib import Path

import torch

from grader import calls, reference
from grader.messages import CallResult, Grad, Init
from grader.sandbox import Sandbox

HW = "hw_svhn"
FSVAE_WEIGHTS = Path(__file__).resolve().parent / "weights" / "fsvae.pt"
FSVAE = ("codebase.models.fsvae", "FSVAE")
FLOW = "svhn_vae.flow:AutoregressiveFlowPrior"
UTILS_HELPERS = (
    "sample_gaussian",
    "log_normal",
    "log_normal_mixture",
    "gaussian_parameters",
    "log_bernoulli_with_logits",
    "kl_cat",
    "kl_normal",
    "duplicate",
    "log_sum_exp",
    "log_mean_exp",
)
TRUSTED_UTILS = {"codebase.utils": {h: f"_reference.utils:{h}" for h in UTILS_HELPERS}}
TRUSTED_MASK = {"svhn_vae.flow": {"causal_mask": "_reference.flow:causal_mask"}}
Q2 = ("vf_wasserstein_distance", "lp_reg")
# q3_solution imports hw_vae's objectives by name: replace them there and in q2_solution
TRUSTED_Q2 = {
    m: {f: f"_reference.q2_solution:{f}" for f in Q2} for m in ("q2_solution", "q3_solution")
}


# ------------------------------------------------------------------------------------ FSVAE


def fake_labels(n: int, seed: int = 0) -> torch.Tensor:
    """(n,) seeded digits standing in for the labels that the SVHN subset lacks."""
    return torch.randint(0, 10, (n,), generator=torch.Generator().manual_seed(seed))


# The trained FSVAE has 3.6 M parameters: its large matrices ship as 4-bit codes with a float16
# offset and step per row (about 1.8 MB, against 7.2 MB in float16). Grader and reference both
# use the dequantized weights, so the codes only decide which trained-looking model is tested.
Q4_MIN_NUMEL = 4096


def quantize_4bit(state: dict) -> dict:
    """state_dict -> storable dict: float tensors of Q4_MIN_NUMEL or more entries become
    {"codes": uint8 (two 4-bit codes per byte), "low", "step": float16 per row, "shape"},
    smaller float tensors float16, the rest unchanged."""
    stored = {}
    for name, value in state.items():
        if not value.is_floating_point():
            stored[name] = value
        elif value.numel() < Q4_MIN_NUMEL:
            stored[name] = value.half()
        else:
            rows = value.float().reshape(value.shape[0], -1)
            low = rows.min(dim=1).values.half()
            step = ((rows.max(dim=1).values - low.float()) / 15).clamp_min(1e-8).half()
            codes = ((rows - low.float()[:, None]) / step.float()[:, None]).round().clamp(0, 15)
            codes = codes.to(torch.uint8).flatten()
            if codes.numel() % 2:
                codes = torch.cat([codes, codes.new_zeros(1)])
            stored[name] = {
                "codes": codes[0::2] | (codes[1::2] << 4),
                "low": low,
                "step": step,
                "shape": list(value.shape),
            }
    return stored


def dequantize_4bit(stored: dict) -> dict:
    """The inverse of quantize_4bit, as float32 (exact up to the 4-bit rounding)."""
    state = {}
    for name, value in stored.items():
        if isinstance(value, dict):
            shape = torch.Size(value["shape"])
            codes = torch.stack([value["codes"] & 15, value["codes"] >> 4], dim=1).flatten()
            codes = codes[: shape.numel()].reshape(shape[0], -1).float()
            rows = value["low"].float()[:, None] + value["step"].float()[:, None] * codes
            state[name] = rows.reshape(shape)
        else:
            state[name] = value.float() if value.is_floating_point() else value
    return state


@functools.cache
def fsvae_weights() -> dict:
    """The shipped trained FSVAE (stored 4-bit, see quantize_4bit), as float32."""
    return dequantize_4bit(torch.load(FSVAE_WEIGHTS, weights_only=True))


def reference_fsvae(state: dict):
    """The reference FSVAE (from solutions/) holding `state`."""
    (module,) = reference.load(HW, FSVAE[0])
    model = module.FSVAE()
    model.load_state_dict(state)
    return model


def fsvae_call(
    sandbox: Sandbox,
    method: str,
    state: dict,
    *args,
    repeat: int = 1,
    seed: int = 0,
    grad: Grad | None = None,
) -> CallResult:
    """The student's FSVAE.<method> on `state`, with the trusted utils.py helpers."""
    return calls.method(
        sandbox,
        Init(f"{FSVAE[0]}:{FSVAE[1]}", {}, state),
        method,
        *args,
        patches=TRUSTED_UTILS,
        fallbacks={"codebase.utils": "_reference.utils"},
        repeat=repeat,
        seed=seed,
        grad=grad,
    )


@functools.cache
@torch.no_grad()
def synthetic_svhn(n: int = 48, seed: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 3072) images in [0, 1] and (n, 10) one-hot labels, drawn from the trained FSVAE:
    clip(mu(y, z) + noise, 0, 1) with z ~ p(z), so no data set is needed."""
    model = reference_fsvae(fsvae_weights())
    gen = torch.Generator().manual_seed(seed)
    y = torch.nn.functional.one_hot(torch.randint(0, 10, (n,), generator=gen), 10).float()
    z = torch.randn(n, model.z_dim, generator=gen)
    mu = model.compute_mean_given(z, y)
    return (mu + 0.05 * torch.randn(mu.shape, generator=gen)).clamp(0, 1), y


# ------------------------------------------------------------------------------------- flow


def flow_state(channels: int, hidden: int, seed: int, out_gain: float = 6.0) -> dict:
    """Weights for AutoregressiveFlowPrior(channels, hidden): PyTorch's initialisation drawn
    from `seed`, the last layer scaled by `out_gain` so that shifts and raw log-scales spread
    over about (-2, 2) and tanh matters."""
    (flow,) = reference.load(HW, "svhn_vae.flow")
    torch.manual_seed(seed)
    prior = flow.AutoregressiveFlowPrior(channels, hidden=hidden)
    state = {k: v.detach().clone() for k, v in prior.state_dict().items()}
    state["net.last.weight"] *= out_gain
    return state


def reference_flow(channels: int, hidden: int, state: dict):
    """The reference AutoregressiveFlowPrior(channels, hidden) holding `state`."""
    (flow,) = reference.load(HW, "svhn_vae.flow")
    prior = flow.AutoregressiveFlowPrior(channels, hidden=hidden)
    prior.load_state_dict(state)
    return prior


def flow_call(
    sandbox: Sandbox,
    method: str,
    channels: int,
    hidden: int,
    state: dict,
    z: torch.Tensor,
    grad: Grad | None = None,
) -> CallResult:
    """The student's AutoregressiveFlowPrior.<method>(z), built with the trusted masks."""
    init = Init(FLOW, {"channels": channels, "hidden": hidden}, state)
    return calls.method(sandbox, init, method, z, patches=TRUSTED_MASK, grad=grad)


def probes(shape: tuple, seed: int, delta: float = 1.0) -> torch.Tensor:
    """(2 (1 + H W), C, H, W): two random base maps, each followed by one copy per position
    with every channel of that position raised by `delta`."""
    c, h, w = shape
    gen = torch.Generator().manual_seed(seed)
    out = []
    for base in torch.randn(2, c, h, w, generator=gen):
        bumps = base.repeat(h * w, 1, 1, 1)  # (H W, C, H, W)
        bumps.view(h * w, c, h * w)[torch.arange(h * w), :, torch.arange(h * w)] += delta
        out += [base[None], bumps]
    return torch.cat(out)


def dependencies(outputs: torch.Tensor, shape: tuple) -> torch.Tensor:
    """(H W, H W) bool: [p, q] when bumping input position p changed output position q.

    outputs: the (2 (1 + H W), C_out, H, W) results of a layer on probes(shape, ...).
    """
    _, h, w = shape
    n = 1 + h * w
    changed = torch.zeros(h * w, h * w, dtype=torch.bool)
    for start in (0, n):
        diff = (outputs[start + 1 : start + n] - outputs[start]).abs().amax(1)  # (H W, H, W)
        changed |= diff.reshape(h * w, h * w) > 1e-5 * (1 + outputs.abs().max())
    return changed


def mask_layer_state(in_c: int, out_c: int, k: int, seed: int) -> dict:
    """weight (out, in, k, k) and bias of a MaskedConv2d: no entry near zero, so that every
    input the mask lets through visibly moves the output."""
    gen = torch.Generator().manual_seed(seed)
    signs = torch.randint(0, 2, (out_c, in_c, k, k), generator=gen) * 2 - 1
    weight = signs * (0.5 + torch.rand(out_c, in_c, k, k, generator=gen))
    return {"weight": weight.float(), "bias": torch.randn(out_c, generator=gen)}


# -------------------------------------------------------------------------------- logistic


def logistic_call(
    sandbox: Sandbox, x: torch.Tensor, params: torch.Tensor, grad: Grad | None = None
) -> CallResult:
    """The student's discretized_logistic_mixture_log_prob(x, params)."""
    return calls.function(
        sandbox, "svhn_vae.logistic:discretized_logistic_mixture_log_prob", x, params, grad=grad
    )


def mixture_params(shape: tuple, k: int, seed: int) -> torch.Tensor:
    """(*shape, 3k) mixture parameters: logits ~ N(0, 1), means over [-1.1, 1.1] (some near
    the edges), log-scales over [-5, 0] (from a fraction of a bin to half the range)."""
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(*shape, k, generator=gen)
    means = torch.rand(*shape, k, generator=gen) * 2.2 - 1.1
    log_scales = torch.rand(*shape, k, generator=gen) * 5 - 5
    return torch.cat([logits, means, log_scales], dim=-1)
