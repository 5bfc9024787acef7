"""The grader graded on hw_svhn: full marks for the reference, zero for the stubs, no cascades,
and the hidden tests' own pieces (critics, generator, probes, Jacobians) checked."""

import json

import pytest
import torch
from submissions import build, scores_by_item

from grader import reference, run
from grader.hw_svhn import harness, wgan
from grader.serialize import table

HW = "hw_svhn"


def test_broken_files_cost_only_their_own_items(tmp_path, data_root):
    """A syntax error in flow.py costs items 2.1 and 2.2 only; broken copies of utils.py and
    q2_solution.py (graded in the other homeworks) cost nothing: trusted copies stand in."""
    edits = {
        "svhn_vae/flow.py": ("class MaskedConv2d(nn.Conv2d):", "class MaskedConv2d(nn.Conv2d)"),
        "codebase/utils.py": ("import math\n", "import math(\n"),
        "q2_solution.py": ("import torch\n", "import torch(\n"),
    }
    result = run.main(HW, build(tmp_path / "submission", edits, hw=HW), data_root=str(data_root))
    for item, (got, top) in scores_by_item(result).items():
        assert (got == 0) if item in ("2.1", "2.2") else (got == top), table(result)
    assert all("SyntaxError" in t.output for t in result.tests if t.item in ("2.1", "2.2"))


def test_training_check_is_left_out_without_the_subset(tmp_path):
    """Without the SVHN subset, is the training check skipped (worth 0), left out of the
    student's results.json (no red 0/0 test no student can fix), its reason kept for staff?"""
    submission = build(tmp_path / "submission", hw=HW)
    results, staff = tmp_path / "results.json", tmp_path / "instructor.json"
    result = run.main(
        HW,
        submission,
        data_root=str(tmp_path / "empty"),
        pytest_args=("-k", "trains_on_svhn"),
        results=results,
        instructor_results=staff,
    )
    (test,) = [t for t in result.tests if t.name.startswith("Training on real SVHN")]
    assert test.status == "skipped" and test.max_score == 0, table(result)
    assert "--data-root" in test.output
    assert not [t for t in json.loads(results.read_text())["tests"] if "SVHN" in t["name"]]
    notes = json.loads(staff.read_text())["instructor_notes"]
    assert any("Training on real SVHN" in n and "--data-root" in n for n in notes)


# ------------------------------------------------------------------ the hidden tests' own pieces


def test_shipped_fsvae_weights_round_trip_within_half_a_step():
    """quantize_4bit then dequantize_4bit moves no weight by more than half its row's step,
    keeps small and integer tensors, and the shipped file loads into the reference FSVAE."""
    gen = torch.Generator().manual_seed(0)
    state = {
        "w": torch.randn(300, 41, generator=gen) * 3,
        "odd": torch.randn(4097, generator=gen),
        "b": torch.randn(7, generator=gen),
        "n": torch.tensor(5),
    }
    back = harness.dequantize_4bit(harness.quantize_4bit(state))
    stored = harness.quantize_4bit(state)["w"]
    half_step = stored["step"].float()[:, None] / 2
    assert ((back["w"] - state["w"]).abs() <= half_step * 1.01 + 1e-3).all()
    assert (back["odd"] - state["odd"]).abs().max() < 0.5
    assert torch.allclose(back["b"], state["b"], atol=1e-2) and back["n"].item() == 5
    shipped = harness.fsvae_weights()
    assert all(v.dtype == torch.float32 for v in shipped.values() if v.is_floating_point())
    harness.reference_fsvae(shipped)  # load_state_dict is strict


def test_hidden_tests_networks_match_the_provided_ones():
    """Do the hidden tests' critic and generator compute what q3_model's modules compute?"""
    (model,) = reference.load(HW, "q3_model")
    critic, generator = model.Critic(), model.Generator()
    critic.load_state_dict(wgan.critic_state(seed=0))
    generator.load_state_dict(wgan.generator_state(seed=0))
    generator.eval()
    x, z = torch.rand(4, 3, 32, 32) * 2 - 1, torch.randn(3, 100)
    with torch.no_grad():
        assert torch.allclose(critic(x), wgan.critic_forward(wgan.critic_state(0), x), atol=1e-5)
        assert torch.allclose(critic(x.flatten(1)), critic(x), atol=1e-6)
        want = wgan.generator_forward(wgan.generator_state(0), z)
        assert torch.allclose(generator(z), want, atol=1e-5)


@pytest.mark.parametrize("grad_norm,penalty", [(2.0, 1.0), (0.5, 0.0)])
def test_affine_critic_makes_hw_vae_penalty_exact(grad_norm, penalty):
    """Is the affine critic's gradient norm the same everywhere, so that hw_vae's lp_reg, run on
    flattened SVHN images, gives relu(norm - 1)^2 exactly, with a gradient to the critic?"""
    (q2,) = reference.load(HW, "q2_solution")
    state = {
        k: v.clone().requires_grad_(True)
        for k, v in wgan.affine_critic_state(grad_norm, seed=int(grad_norm * 10)).items()
    }
    x = (torch.rand(64, 3072) * 2 - 1).requires_grad_(True)
    (g,) = torch.autograd.grad(wgan.critic_forward(state, x).sum(), x)
    assert torch.allclose(g.norm(dim=1), torch.full((64,), grad_norm), rtol=1e-4)
    real, fake = torch.rand(24, 3072) * 2 - 1, torch.rand(24, 3072) * 2 - 1
    lp = q2.lp_reg(real, fake, lambda v: wgan.critic_forward(state, v))
    assert abs(lp.item() - penalty) < 1e-4
    (w_grad,) = torch.autograd.grad(lp.sum(), state["net.6.weight"], allow_unused=True)
    assert (w_grad is not None and w_grad.abs().sum() > 0) == (penalty > 0)


def test_probes_find_exactly_the_reference_masks():
    """Do the probes recover the analytic dependency pattern from the reference layers?"""
    from grader.hw_svhn.test_flow import expected_layer_pattern

    (flow,) = reference.load(HW, "svhn_vae.flow")
    for mask_type in "AB":
        for k in (1, 3, 5):
            layer = flow.MaskedConv2d(mask_type, 2, 3, k)
            layer.load_state_dict(harness.mask_layer_state(2, 3, k, seed=k))
            with torch.no_grad():
                got = harness.dependencies(layer(harness.probes((2, 6, 6), seed=k)), (2, 6, 6))
            assert torch.equal(got, expected_layer_pattern(mask_type, k, 6, 6)), (mask_type, k)


def test_flow_jacobian_is_triangular_and_matches_log_prob():
    """Is d eps / dz lower triangular in raster order, and the brute-force log-density equal
    to the reference's log_prob?"""
    from grader.hw_svhn.test_flow import HIDDEN, TINY, brute_force_log_prob, latents, state

    prior = harness.reference_flow(TINY[0], HIDDEN, state(TINY))
    z = latents(TINY, 3, seed=2)

    def eps(flat):
        x = flat.reshape(1, *TINY)
        mu, log_sigma = prior.shift_and_log_scale(x)
        return ((x - mu) * torch.exp(-log_sigma)).reshape(-1)

    jac = torch.autograd.functional.jacobian(eps, z[0].reshape(-1))  # (18, 18), channel-major
    order = torch.arange(18).reshape(TINY).permute(1, 2, 0).reshape(-1)  # raster, then channel
    raster = jac[order][:, order]
    assert torch.equal(raster.triu(1), torch.zeros_like(raster))
    with torch.no_grad():
        assert torch.allclose(brute_force_log_prob(z), prior.log_prob(z), atol=1e-3)
