"""The grader graded on hw_vae: full marks for the reference, zero for the stubs, no cascades."""

from submissions import REPO, build, scores_by_item

from grader import run
from grader.serialize import table

HW = "hw_vae"
SOLUTION = REPO / "solutions" / HW


def test_broken_q2_costs_only_problem_2(tmp_path):
    """Does a syntax error in q2_solution.py fail items 2.2 and 2.4 and leave Problem 1 intact?"""
    sub = build(
        tmp_path / "submission", {"q2_solution.py": ("import torch\n", "import torch(\n")}, hw=HW
    )
    result = run.main(HW, sub)
    for item, (got, top) in scores_by_item(result).items():
        assert (got == 0) if item.startswith("2.") else (got == top), table(result)
    assert all("SyntaxError" in t.output for t in result.tests if t.item.startswith("2.")), table(
        result
    )


def test_hidden_tests_critic_matches_the_provided_one():
    """Does the hidden tests' copy of the critic compute what q2_model.Critic computes?"""
    import torch

    from grader import reference
    from grader.hw_vae import harness

    (q2_model,) = reference.load(HW, "q2_model")
    state = harness.critic_state()
    provided = q2_model.Critic(in_size=2)
    provided.load_state_dict(state)  # the same parameter names and shapes
    x = harness.scattered(256, seed=0)
    with torch.no_grad():
        assert torch.allclose(provided(x), harness.critic_forward(state, x), atol=1e-6)


def test_calibrated_weights_of_parts_4_and_5():
    """Do the seeded weights of the Part 4 and 5 tests give the spreads their docstrings say?"""
    import torch

    from grader.hw_vae import harness

    conv = harness.conv_reference(harness.conv_calibrated_state())
    with torch.no_grad():
        mean, log_std = conv.encode(harness.conv_images(256, seed=1))
        x_mean = conv.decode(torch.randn(256, 4, generator=torch.Generator().manual_seed(2)))
    assert torch.allclose(mean.std(0), torch.ones(4), atol=1e-4)
    assert torch.allclose(log_std.mean(0), torch.full((4,), -0.7), atol=1e-4)
    assert abs(x_mean.mean() - 0.35) < 1e-4 and abs(x_mean.std() - 0.3) < 1e-3
    for kind in ("diagonal", "scalar"):
        model = harness.vae2d_reference(kind, harness.vae2d_calibrated_state(kind))
        with torch.no_grad():
            _, log_var = model.encode(harness.vae2d_points(512, seed=2))
            _, dec_log_var = model.decode(torch.randn(7, 2))
        assert torch.allclose(log_var.mean(0), torch.full((2,), 0.5), atol=1e-4)
        assert torch.allclose(log_var.std(0), torch.full((2,), 0.7), atol=1e-4)
        assert torch.allclose(dec_log_var, torch.full_like(dec_log_var, 0.8), atol=1e-4)
