"""Items 2.2 and 2.4: the critic objectives and the Lipschitz penalty of q2_solution.py.

The worker builds the provided Critic with weights made here (harness.critic_state) and passes
it as the third argument. The objectives are deterministic given the critic: their values and
their gradients with respect to the critic's parameters are compared exactly with the formulas
below. The penalty draws t ~ U[0, 1]: its average over many calls, its gradient and its spread
are compared with expectations over t computed here by quadrature, so any way of drawing t
passes.
"""

import pytest
import torch

from grader import refcache
from grader.checks import Count, assert_close, assert_same_mean, fail, mean_se, outputs
from grader.hw_vae import harness
from grader.hw_vae.harness import critic, critic_call, critic_state, points, scattered
from grader.messages import CallResult, Grad

VF_STATE = critic_state(median_norm=2.0, out_mean=0.3)  # scores T from about -2 to 2.5
LP_STATE = critic_state()  # gradient norms from about 0.02 to 3, median 1
PARAMS = [
    "net.0.weight",
    "net.0.bias",
    "net.2.weight",
    "net.2.bias",
    "net.4.weight",
    "net.4.bias",
    "net.6.weight",
    "net.6.bias",
]
NODES = 256  # quadrature nodes in t per pair
BOX_NODES = 32  # nodes per coordinate of the quadrature with one t per coordinate
CANDIDATES, OFF_SEGMENT = 128, 24  # pairs searched, and kept, for the expectation test
LP_REPEATS, SPREAD_REPEATS, GRAD_REPEATS = 60, 60, 40


def batches() -> dict:
    """(x, y) batches: the handout's p and q (theta = 0.7), and points all over the plane."""
    return {
        "x ~ p, y ~ q with theta = 0.7": (points(0.0, 128, seed=1), points(0.7, 128, seed=2)),
        "points all over the plane": (scattered(64, seed=3), scattered(64, seed=4) * 0.5 + 0.4),
    }


def hellinger(x, y, t_fn) -> torch.Tensor:
    """E_P[gf(T)] - E_Q[f*(gf(T))] with gf(v) = 1 - exp(-v), f*(t) = t / (1 - t)."""
    return (1 - torch.exp(-t_fn(x))).mean() - (torch.exp(t_fn(y)) - 1).mean()


def wasserstein(x, y, t_fn) -> torch.Tensor:
    """E_P[T(x)] - E_Q[T(y)]."""
    return t_fn(x).mean() - t_fn(y).mean()


OBJECTIVES = {"vf_squared_hellinger": hellinger, "vf_wasserstein_distance": wasserstein}


def student_value(result: dict, name: str) -> torch.Tensor:
    """The (repeats,) values of the student's objective `name`, one number per call."""
    (values,) = outputs(result, 1, name, scalars=True)
    return values


def check_objective(sandbox, name: str) -> None:
    """Fail unless the student's objective `name` equals its formula (OBJECTIVES) on every
    batch of `batches`, for the critic of VF_STATE."""
    for what, (x, y) in batches().items():
        got = student_value(critic_call(sandbox, name, VF_STATE, x, y), name)
        with torch.no_grad():
            expected = OBJECTIVES[name](x, y, critic(VF_STATE)).reshape(1)
        assert_close(
            got,
            expected,
            f"{name}(x, y, critic) on {what}",
            rtol=1e-5,
            atol=1e-6,
            counts=[Count(len(x), f"the batch of {len(x)} points")],
        )


def check_objective_gradient(sandbox, name: str) -> None:
    """Fail unless the student's objective `name` is differentiable and its gradient with
    respect to each of PARAMS equals that of the formula, by autograd."""
    x, y = batches()["x ~ p, y ~ q with theta = 0.7"]
    grad = Grad(output=0, params=tuple(PARAMS))
    run = critic_call(sandbox, name, VF_STATE, x, y, grad=grad).runs[0]
    student_value(CallResult((run,)), name)
    if not run.grads.connected:
        fail(
            f"{name} returned a value with no gradient: keep it a function of critic(x) and "
            "critic(y), without .item(), .detach() or torch.no_grad()"
        )
    state = {k: v.clone().requires_grad_(True) for k, v in VF_STATE.items()}
    value = OBJECTIVES[name](x, y, critic(state))
    expected = torch.autograd.grad(value, [state[p] for p in PARAMS])
    for param, want in zip(PARAMS, expected):
        assert_close(
            run.grads.params[param],
            want,
            f"the gradient of {name} with respect to the critic's {param}",
            rtol=1e-4,
            atol=1e-5 * want.abs().max().item(),
        )


# ------------------------------------------------------------------ 2.2 vf_squared_hellinger


@pytest.mark.item("2.2")
@pytest.mark.points(3)
def test_hellinger_values(sandbox):
    """vf_squared_hellinger is E_P[1 - exp(-T(x))] - E_Q[exp(T(y)) - 1] on the batch"""
    check_objective(sandbox, "vf_squared_hellinger")


@pytest.mark.item("2.2")
@pytest.mark.points(1)
def test_hellinger_gradient(sandbox):
    """vf_squared_hellinger's gradient with respect to the critic's parameters is exact"""
    check_objective_gradient(sandbox, "vf_squared_hellinger")


# ------------------------------------------------------------------ 2.4 vf_wasserstein_distance


@pytest.mark.item("2.4")
@pytest.mark.points(1)
def test_wasserstein_values(sandbox):
    """vf_wasserstein_distance is E_P[T(x)] - E_Q[T(y)] on the batch"""
    check_objective(sandbox, "vf_wasserstein_distance")


@pytest.mark.item("2.4")
@pytest.mark.points(0.5)
def test_wasserstein_gradient(sandbox):
    """vf_wasserstein_distance's gradient with respect to the critic's parameters is exact"""
    check_objective_gradient(sandbox, "vf_wasserstein_distance")


# ------------------------------------------------------------------ 2.4 lp_reg


def penalty_per_node(x, y, critic_fn, create_graph: bool = False, nodes: int = NODES):
    """(pairs, nodes) relu(||grad T(x_hat)|| - 1)^2 at x_hat = t x + (1 - t) y, t at the
    midpoints of `nodes` equal cells of [0, 1]. T is piecewise linear, so the mean over nodes
    is E_t up to the few cells where the segment crosses a kink."""
    t = ((torch.arange(nodes) + 0.5) / nodes).reshape(1, nodes, 1)
    x_hat = (t * x.unsqueeze(1) + (1 - t) * y.unsqueeze(1)).reshape(-1, 2).requires_grad_(True)
    (g,) = torch.autograd.grad(critic_fn(x_hat).sum(), x_hat, create_graph=create_graph)
    return torch.relu(g.norm(dim=1) - 1).pow(2).reshape(x.shape[0], nodes)


def lp_pairs(copies: int) -> tuple[torch.Tensor, torch.Tensor]:
    """32 pairs of the handout's p and q (theta = 1.5) and 32 scattered ones, each `copies`
    times: (64 copies, 2) each."""
    x = torch.cat([points(0.0, 32, seed=5), scattered(32, seed=6)])
    y = torch.cat([points(1.5, 32, seed=7), scattered(32, seed=8)])
    return x.repeat(copies, 1), y.repeat(copies, 1)


def penalty_per_box_node(x, y, critic_fn, nodes: int = BOX_NODES) -> torch.Tensor:
    """(pairs, nodes^2) the penalty at x_hat = t * x + (1 - t) * y with t = (t_1, t_2) on a
    grid of cell midpoints: one t per coordinate, which fills the box spanned by x and y
    instead of the segment between them (a slip whose expectation the test names)."""
    t = (torch.arange(nodes) + 0.5) / nodes
    t = torch.cartesian_prod(t, t).unsqueeze(0)  # (1, nodes^2, 2)
    x_hat = (t * x.unsqueeze(1) + (1 - t) * y.unsqueeze(1)).reshape(-1, 2).requires_grad_(True)
    (g,) = torch.autograd.grad(critic_fn(x_hat).sum(), x_hat)
    return torch.relu(g.norm(dim=1) - 1).pow(2).reshape(x.shape[0], -1)


@refcache.cached
def off_segment_pairs() -> tuple[torch.Tensor, torch.Tensor]:
    """(OFF_SEGMENT, 2) x and y: the scattered pairs, among CANDIDATES, where one t per
    coordinate raises the penalty's expectation the most. On the pairs of `lp_pairs` the two
    expectations differ by under 3 standard errors of the test; with these, by about 10."""
    x, y = scattered(CANDIDATES, seed=30), scattered(CANDIDATES, seed=31)
    on_segment = penalty_per_node(x, y, critic(LP_STATE), nodes=64).mean(1)
    in_box = penalty_per_box_node(x, y, critic(LP_STATE), nodes=16).mean(1)
    keep = (in_box - on_segment).argsort(descending=True)[:OFF_SEGMENT]
    return x[keep], y[keep]


def expectation_pairs(copies: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The pairs of `lp_pairs` and `off_segment_pairs`, each `copies` times."""
    (x, y), (xo, yo) = lp_pairs(1), off_segment_pairs()
    return torch.cat([x, xo]).repeat(copies, 1), torch.cat([y, yo]).repeat(copies, 1)


@refcache.cached
def lp_expectation(per_coordinate: bool = False) -> float:
    """E_t of the penalty on `expectation_pairs`, with one t per pair (or per coordinate)."""
    x, y = expectation_pairs(1)
    per_node = penalty_per_box_node if per_coordinate else penalty_per_node
    return per_node(x, y, critic(LP_STATE)).mean().item()


def lp_grad(sandbox, state, x, y, repeat: int, seed: int, params=("net.6.weight",)) -> dict:
    """lp_reg's reply; always with gradients on, which autograd.grad inside lp_reg needs."""
    return critic_call(
        sandbox,
        "lp_reg",
        state,
        x,
        y,
        repeat=repeat,
        seed=seed,
        grad=Grad(output=0, params=tuple(params)),
    )


@pytest.mark.item("2.4")
@pytest.mark.points(1)
def test_lp_reg_expectation(sandbox):
    """lp_reg averages to E_t mean_i relu(||grad T(t x_i + (1 - t) y_i)||_2 - 1)^2"""
    x, y = expectation_pairs(4)
    got = student_value(lp_grad(sandbox, LP_STATE, x, y, LP_REPEATS, seed=21), "lp_reg")
    expected = torch.full((2,), lp_expectation(), dtype=torch.float64)
    assert_same_mean(
        got,
        expected,
        "lp_reg on a fixed critic",
        atol=1e-3,
        counts=[Count(len(x), f"the batch of {len(x)} pairs")],
        known={
            "that is the expectation with one t per coordinate, which leaves the segment "
            "between x and y: draw t of shape (batch, 1)": lambda: torch.tensor(
                lp_expectation(True)
            )
        },
    )


@pytest.mark.item("2.4")
@pytest.mark.points(0.5)
def test_lp_reg_zero_when_lipschitz(sandbox):
    """lp_reg is 0 for a critic whose gradient norm is below 1 everywhere (one-sided penalty)"""
    x, y = lp_pairs(2)
    got = student_value(lp_grad(sandbox, harness.lipschitz_state(), x, y, 3, seed=22), "lp_reg")
    if got.abs().max() > 1e-7:
        fail(
            f"lp_reg gave {got.abs().max().item():.3g} for a critic whose gradient norm is "
            "below 0.9 everywhere: the penalty is one-sided, max(0, ||grad|| - 1)^2, not "
            "(||grad|| - 1)^2"
        )


@pytest.mark.item("2.4")
@pytest.mark.points(0.5)
def test_lp_reg_t_per_pair(sandbox):
    """lp_reg draws its own t on the segment for every pair: one pair repeated averages out"""
    a, b = torch.tensor([[0.0, 0.9]]), torch.tensor([[2.0, 0.1]])
    per_node = penalty_per_node(a, b, critic(LP_STATE), nodes=4096).double()[0]
    n = 64
    got = student_value(
        lp_grad(sandbox, LP_STATE, a.repeat(n, 1), b.repeat(n, 1), SPREAD_REPEATS, seed=23),
        "lp_reg",
    )
    ratio = got.double().var().item() / (per_node.var().item() / n)
    if ratio > 3:
        fail(
            f"for a batch of one pair (x, y) repeated {n} times, lp_reg varies {ratio:.0f} "
            f"times more from call to call than it should ({n} would mean one t for the whole "
            "batch): draw t of shape (batch, 1), one for every pair"
        )
    assert_same_mean(
        got,
        per_node.mean().expand(2),
        f"lp_reg for one pair repeated {n} times (x_hat must lie on the segment between x and y)",
        atol=1e-3,
    )


@refcache.cached
def lp_expected_grad() -> torch.Tensor:
    """The gradient of E_t lp_reg (by quadrature) on lp_pairs(1) with respect to the
    critic's last weight, of that weight's shape."""
    state = {k: v.clone().requires_grad_(True) for k, v in LP_STATE.items()}
    x, y = lp_pairs(1)
    penalty = penalty_per_node(x, y, critic(state), create_graph=True).mean()
    (g,) = torch.autograd.grad(penalty, state["net.6.weight"])
    return g.detach()


@pytest.mark.item("2.4")
@pytest.mark.points(0.5)
def test_lp_reg_differentiable(sandbox):
    """lp_reg can be trained through: its gradient reaches the critic's parameters"""
    x, y = lp_pairs(4)
    result = lp_grad(sandbox, LP_STATE, x, y, GRAD_REPEATS, seed=24)
    student_value(result, "lp_reg")
    if not all(r.grads.connected for r in result.runs):
        fail(
            "lp_reg's value has no gradient with respect to the critic's parameters: pass "
            "create_graph=True to torch.autograd.grad, so that the gradient norm itself can "
            "be differentiated"
        )
    got = torch.stack([r.grads.params["net.6.weight"] for r in result.runs])
    mean, se = mean_se(got.flatten(1))
    want = lp_expected_grad().flatten().double()
    bound = 5 * se + 5e-3 * want.abs().max()
    if ((mean - want).abs() > bound).any():
        worst = int(((mean - want).abs() - bound).argmax())
        fail(
            f"the gradient of lp_reg with respect to the critic's last layer is wrong: entry "
            f"{worst} averages {mean[worst].item():.4g} +- {se[worst].item():.2g} over "
            f"{GRAD_REPEATS} calls, but should be {want[worst].item():.4g}"
        )
