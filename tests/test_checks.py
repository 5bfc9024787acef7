"""The assertions of grader/checks.py: what they accept, and what their messages say."""

import math

import pytest
import torch

from grader.checks import (
    Count,
    assert_batch_mean,
    assert_close,
    assert_same_mean,
    batch_means,
    outputs,
)
from grader.messages import CallResult, Run


def draws(mean, sd: float, n: int, seed: int) -> torch.Tensor:
    """(n, *mean.shape) normal draws around `mean`."""
    mean = torch.as_tensor(mean, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    return mean + sd * torch.randn((n, *mean.shape), generator=gen, dtype=torch.float64)


def message(check, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


def test_sum_over_the_batch_is_named_in_a_value_check():
    """Does a value off by exactly the batch size say 'summed ... instead of averaged'?"""
    expected = torch.tensor([18.753])
    text = message(
        assert_close, expected * 50, expected, "kl", counts=[Count(50, "the batch of 50")]
    )
    assert "got 937.65 but expected 18.753" in text
    assert "exactly 50 times the expected value: summed over the batch of 50" in text
    assert text.endswith("average instead (.mean())")


def test_mean_where_the_sum_belongs_is_named():
    """Does a value off by 1/784 say 'averaged ... where the sum was asked'?"""
    expected = torch.tensor([-540.0, -610.0])
    text = message(assert_close, expected / 784, expected, "rec", counts=[Count(784, "pixels")])
    assert "exactly 1/784 of the expected value: averaged over pixels" in text


def test_log_of_a_sum_is_named_and_not_the_shift():
    """Does log_mean_exp returning log-sum-exp get 'divide by K', not 'subtract the maximum'?"""
    y = torch.randn(8, 9, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    want = torch.logsumexp(y, 1) - math.log(9)
    text = message(
        assert_close, torch.logsumexp(y, 1), want, "log_mean_exp", counts=[Count(9, "K")]
    )
    assert "log 9" in text and "divide by 9 inside the log" in text
    assert "maximum" not in text


def test_no_diagnosis_without_evidence():
    """Is a value that is merely wrong (no count fits) reported without a guessed cause?"""
    expected = torch.tensor([2.0, 3.0])
    text = message(
        assert_close, torch.tensor([2.5, 3.1]), expected, "x", counts=[Count(7, "the samples")]
    )
    assert text.endswith("(relative error 0.25)")


def test_known_slip_is_computed_only_on_failure():
    """Is a known slip given as a function left uncalled when the check passes?"""
    calls = []
    assert_close(torch.ones(3), torch.ones(3), "x", known={"y": lambda: calls.append(1)})
    assert not calls


def test_zero_standard_error_prints_got_and_expected():
    """Do two exact values that differ read 'got X, expected Y', with no standard errors?"""
    text = message(assert_same_mean, torch.full((40,), 3.5), torch.full((2,), 3.25), "kl")
    assert text == "kl: got 3.5, expected 3.25"


def test_student_exact_reference_random():
    """Is a student's constant value shown as the same in every call, without '+- 0'?"""
    text = message(assert_same_mean, torch.full((40,), 3.5), draws(3.25, 0.1, 200, 0), "kl")
    assert "your value is 3.5 in all 40 calls" in text and "+- 0 " not in text


def test_sum_over_samples_is_named_in_an_expectation():
    """Does an expectation num_samples times too large name the sum over the samples?"""
    want = torch.tensor([1.0, 2.5, 0.3])
    student = draws(want * 5, 0.5, 400, 1)
    text = message(
        assert_same_mean, student, want.expand(2, 3), "kl", counts=[Count(5, "the 5 samples")]
    )
    assert "exactly 5 times the expected value: summed over the 5 samples" in text


def test_a_zero_gradient_is_named_even_where_noisy_entries_fail_barely():
    """Does a gradient that averages 0 get its known slip, though small entries are noisy?"""
    want = torch.linspace(-3, 3, 24, dtype=torch.float64)
    student = draws(torch.zeros(24), 1.0, 400, 2)
    text = message(
        assert_same_mean,
        student,
        want.expand(2, -1),
        "grad",
        known={"it averages 0: reparameterize": torch.zeros(24)},
        draws="examples",
    )
    assert text.endswith("it averages 0: reparameterize")
    assert "your average over 400 examples" in text


def test_a_coincidental_offset_is_not_named():
    """Is a bound 2.0 too high not called 'log 10 applied twice' (log 10 = 2.30)?"""
    student = draws(102.0, 0.5, 40, 3)  # standard error about 0.08
    text = message(
        assert_same_mean,
        student,
        draws(100.0, 0.5, 160, 4),
        "niwae",
        counts=[Count(10, "the 10 samples", log_sign=-1)],
    )
    assert "log 10" not in text


def test_a_slip_ten_standard_errors_away_is_named():
    """Is a slip named when the student's mean sits on it, 10 standard errors from the truth?"""
    student = draws(0.2294, 0.021, 60, 5)  # standard error 0.0027
    text = message(
        assert_same_mean,
        student,
        torch.full((2,), 0.2024, dtype=torch.float64),
        "lp_reg",
        known={"one t per coordinate: draw t of shape (batch, 1)": torch.tensor(0.2296)},
    )
    assert text.endswith("one t per coordinate: draw t of shape (batch, 1)")


@pytest.mark.parametrize("reduce", ["mean", "sum", "first"])
def test_batch_mean_contract(reduce):
    """Does the batch-mean check pass the mean, and fail a sum (named) and the first example?"""
    gen = torch.Generator().manual_seed(5)
    per_example = torch.rand(50, generator=gen, dtype=torch.float64) * 40 + 80

    def reduced(rows, seed):
        values = per_example[rows] + draws(torch.zeros(len(per_example[rows])), 5.0, 20, seed)
        return values[:, 0] if reduce == "first" else getattr(values, reduce)(1)

    whole, parts = reduced(slice(0, 50), 6), [reduced(slice(0, 10), 7), reduced(slice(10, 50), 8)]
    if reduce == "mean":
        assert_batch_mean(whole, parts, [10, 40], "nelbo")
        return
    text = message(assert_batch_mean, whole, parts, [10, 40], "nelbo")
    assert ("summed over the batch instead of averaged" in text) == (reduce == "sum")


def test_outputs_judges_only_the_named_scalars():
    """Does outputs(..., scalars=(0,)) accept per-example kl and rec, and batch_means fail them?"""
    run = Run(outputs=(torch.tensor(1.0), torch.ones(5), torch.ones(5)), inputs_changed=(False,))
    result = CallResult(runs=(run,) * 3)
    niwae, kl, rec = outputs(result, 3, "bound", scalars=(0,))
    assert niwae.shape == (3,) and kl.shape == (3, 5)
    with pytest.raises(AssertionError, match=r"kl has shape \(5,\): return a 0-dim tensor"):
        batch_means(kl, "kl")
    with pytest.raises(AssertionError, match="output 1 of bound has shape"):
        outputs(result, 3, "bound", scalars=True)
