"""Assertions of the hidden tests: exact where the answer is exact, statistical where random.

Every failure message is written for the student: what was expected, what came back, by how
much it is off and where, and, when the evidence fits one known slip (a sum where the mean was
asked, a log of a sum where the log of a mean belongs, ...), that slip and its remedy.
"""

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass

import torch

from grader.messages import CallResult


def fail(message: str):
    """Fail the running test with `message`, the text the student reads."""
    raise AssertionError(message)


def outputs(
    result: CallResult,
    count: int,
    what: str,
    scalars: bool | Collection[int] = False,
    nonfinite: str = "",
) -> list[torch.Tensor]:
    """Per output, the values of every repeat stacked along a new first dimension.

    scalars: True when each output is one number (shape () or (1,), the batch average),
    stacked to shape (repeats,); or the positions of the outputs that must be, so that a
    wrong shape of another output costs only the test that reads it (see `batch_means`).
    Outputs of one number are stacked to (repeats,) in either case. nonfinite: the remedy
    that a NaN or an infinity in the outputs calls for, if the test knows it.
    """
    runs = [run.outputs for run in result.runs]
    got = len(runs[0])
    if got != count:
        fail(f"{what} returned {got} value(s); it must return {count}")
    judged = range(count) if scalars is True else (scalars or ())
    for i in judged:
        shape = tuple(runs[0][i].shape)
        if runs[0][i].numel() != 1:
            fail(
                f"output {i} of {what} has shape {shape}: each value the bound returns is "
                "one number, averaged over the batch"
            )
    if scalars is not False:
        runs = [[o.reshape(()) if o.numel() == 1 else o for o in run] for run in runs]
    try:
        stacked = [torch.stack([run[i] for run in runs]) for i in range(count)]
    except RuntimeError:
        fail(f"{what} returned values of different shapes in different calls")
    checked = judged if scalars is not False else range(count)
    for i in checked:  # a NaN would pass every comparison below it
        check_finite(stacked[i], what if count == 1 else f"output {i} of {what}", nonfinite)
    return stacked


def batch_means(values: torch.Tensor, name: str) -> torch.Tensor:
    """values (repeats, ...) of one returned term, which must be a 0-dim batch mean."""
    if values.dim() != 1:
        fail(
            f"{name} has shape {tuple(values.shape[1:])}: return a 0-dim tensor, the batch "
            "mean (.mean() over the batch)"
        )
    check_finite(values, name)
    return values


def check_shape(t: torch.Tensor, shape: tuple, what: str) -> None:
    """Fail unless `t` has shape `shape`; the message names `what` and both shapes."""
    if tuple(t.shape) != tuple(shape):
        fail(f"{what} has shape {tuple(t.shape)}; expected {tuple(shape)}")


def check_finite(t: torch.Tensor, what: str, remedy: str = "") -> None:
    """Fail if `t` holds a NaN or an infinity: how many, the first and where, and `remedy`."""
    bad = ~torch.isfinite(t)
    if bad.any():
        idx = tuple(bad.nonzero()[0].tolist())
        fail(
            f"{what} holds {int(bad.sum())} non-finite value(s), e.g. {t[idx].item()} at {idx}"
            + (f": {remedy}" if remedy else "")
        )


# ------------------------------------------------------------------ diagnoses of known slips


@dataclass(frozen=True)
class Count:
    """A number of values that the checked quantity reduces over, e.g. the batch.

    A slip that sums where the mean was asked multiplies the value by n; one that takes the
    log of a sum where the log of a mean belongs moves it by log n, times log_sign (-1 for a
    negative bound, -1 / (2 ln 2) for one in bits per dimension of 2-D points).
    """

    n: int
    name: str  # what the n values are, e.g. "the batch" or "the 9 samples"
    log_sign: float = 1.0


def slips_of(counts: Collection[Count]) -> list[tuple[str, Callable]]:
    """(diagnosis, expected -> what that slip gives) for every count."""
    found = []
    for c in counts:
        shift = c.log_sign * math.log(c.n)
        off = f"off by exactly {abs(shift):.4g}, which is log {c.n}" + (
            "" if abs(c.log_sign) == 1 else " in these units"
        )
        found += [
            (
                f"that is exactly {c.n} times the expected value: summed over {c.name} where "
                "the mean was asked; average instead (.mean())",
                lambda e, n=c.n: e * n,
            ),
            (
                f"that is exactly 1/{c.n} of the expected value: averaged over {c.name} where "
                "the sum was asked; sum instead (.sum())",
                lambda e, n=c.n: e / n,
            ),
            (
                f"that is {off}: the log of a sum over {c.name} where the log of their mean "
                f"belongs; divide by {c.n} inside the log (log-mean-exp, not log-sum-exp)",
                lambda e, s=shift: e + s,
            ),
            (
                f"that is {off}: the 1/{c.n} of the mean over {c.name} is applied twice; "
                "apply it once",
                lambda e, s=shift: e - s,
            ),
        ]
    return found


def diagnose(
    fits: Callable, expected: torch.Tensor, counts: Collection[Count], known: dict | None
) -> str:
    """The first known slip whose value `fits` the student's; '' if none does.

    known: diagnosis (ending with its remedy) -> the value that slip would give, or a function
    of no arguments that computes it (called only when a check fails).
    """
    candidates = [
        (text, lambda e, v=v: v() if callable(v) else v) for text, v in (known or {}).items()
    ]
    for text, slip in candidates + slips_of(c for c in counts if c.n > 1):
        alternative = torch.as_tensor(slip(expected.double()), dtype=torch.float64)
        if alternative.shape == expected.shape and fits(alternative):
            return text
    return ""


def with_diagnosis(message: str, diagnosis: str) -> str:
    """`message`, followed by `diagnosis` (a known slip and its remedy) if any."""
    return f"{message}; {diagnosis}" if diagnosis else message


# ------------------------------------------------------------------------------- assertions


def assert_close(
    actual: torch.Tensor,
    expected: torch.Tensor,
    what: str,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    counts: Collection[Count] = (),
    known: dict | None = None,
) -> None:
    """Elementwise closeness; the message gives the worst entry and both errors, and names
    the slip (of `counts` or `known`) that the values fit, if one does."""
    check_shape(actual, expected.shape, what)
    check_finite(actual, what)
    a, e = actual.double(), expected.double()
    err = (a - e).abs()
    allowed = atol + rtol * e.abs()
    if (err > allowed).any():
        worst = tuple(int(i) for i in torch.unravel_index((err - allowed).argmax(), err.shape))
        rel = err[worst] / e[worst].abs().clamp_min(1e-12)

        def fits(alternative: torch.Tensor) -> bool:
            return bool(((a - alternative).abs() <= atol + rtol * alternative.abs()).all())

        fail(
            with_diagnosis(
                f"{what} is wrong: max abs error {err.max().item():.4g}, at index {worst} "
                f"got {a[worst].item():.6g} but expected {e[worst].item():.6g} "
                f"(relative error {rel.item():.3g})",
                diagnose(fits, e, counts, known),
            )
        )


def mean_se(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard error over the first dimension."""
    x = x.double()
    return x.mean(0), x.std(0) / math.sqrt(x.shape[0])


def assert_same_mean(
    student: torch.Tensor,
    reference: torch.Tensor,
    what: str,
    z: float = 5.0,
    atol: float = 1e-4,
    counts: Collection[Count] = (),
    known: dict | None = None,
    draws: str = "calls",
) -> None:
    """The expectations of two Monte-Carlo estimates agree within z standard errors.

    student, reference: (repeats, ...) independent draws of the same estimator (a reference
    that is exact may be its value repeated). counts, known: slips to name if the student's
    expectation fits one of them (see `diagnose`). draws: what the repeats are, for the
    message ("calls", or "examples" where the rows of one call are the draws).
    """
    check_finite(student, what)
    (ms, ss), (mr, sr) = mean_se(student), mean_se(reference)
    bound = z * (ss**2 + sr**2).sqrt() + atol * (1 + mr.abs())
    gap = (ms - mr).abs()
    if not (gap > bound).any():
        return
    worst = int((gap - bound).argmax()) if gap.dim() else None
    stats = [t.flatten() for t in (ms, ss, mr, sr)]
    fail(
        with_diagnosis(
            mean_message(what, worst, stats, f"{len(student)} {draws}"),
            diagnose(lambda alt: fits_in_mean(alt, ms, ss, mr, sr, z, atol), mr, counts, known),
        )
    )


def mean_message(what: str, worst: int | None, stats: list[torch.Tensor], draws: str) -> str:
    """The verdict on the worst entry of (student mean, its standard error, reference mean,
    its standard error) over `draws` (e.g. "40 calls"); without standard errors, "got X,
    expected Y"."""
    ms, ss, mr, sr = (t[worst or 0].item() for t in stats)
    where = f" (entry {worst})" if worst is not None else ""
    if ss == 0 and sr == 0:
        return f"{what}{where}: got {ms:.6g}, expected {mr:.6g}"
    got = (
        f"your value is {ms:.5g} in all {draws}"
        if ss == 0
        else f"your average over {draws} is {ms:.5g} +- {ss:.2g}"
    )
    want = f"{mr:.5g}" + (f" +- {sr:.2g}" if sr > 0 else "")
    sigma = abs(ms - mr) / math.sqrt(ss**2 + sr**2)
    return (
        f"{what}{where}: {got}, but the correct expectation is {want}: "
        f"{sigma:.1f} standard errors apart"
    )


def fits_in_mean(alternative, ms, ss, mr, sr, z: float, atol: float) -> bool:
    """Does a slip's value explain the student's mean ms (standard error ss) far better than
    the expected mr (sr)? Every entry must lie within z standard errors of it; and, fitting
    ms = mr + lam (alternative - mr), lam must be known to 0.1 and agree with 1 (within 2.5
    of its standard errors): a bug that is off by about as much for another reason (lam 0.85,
    say) is not named."""
    scale = (alternative.abs() / mr.abs().clamp_min(1e-12)).clamp(1e-6, 1e6)
    spread = z * (ss**2 + (scale * sr) ** 2).sqrt() + atol * (1 + alternative.abs())
    if ((ms - alternative).abs() > spread).any():
        return False
    se = (ss**2 + sr**2).sqrt() + atol * (1 + mr.abs()) / z  # a floor for exact values
    step = alternative - mr
    size = (step / se).pow(2).sum()
    if not size > 100:  # lam's standard error, 1 / sqrt(size), is above 0.1
        return False
    lam = ((ms - mr) * step / se.pow(2)).sum() / size
    return bool((lam - 1).abs() <= 2.5 / size.sqrt() + 0.01)


def assert_batch_mean(
    whole: torch.Tensor, parts: list[torch.Tensor], sizes: list[int], what: str, z: float = 5.0
) -> None:
    """A term returned for a batch is the mean of its per-example values (in expectation).

    whole: (repeats,) the term on the whole batch; parts: (repeats_i,) the term on each of
    the disjoint parts of that batch, of `sizes` examples. The mean satisfies
    E whole = sum_i sizes_i E parts_i / sum_i sizes_i; a sum, or any other reduction, does not.
    """
    (mw, sw), per_part = mean_se(whole), [mean_se(p) for p in parts]
    n = sum(sizes)
    combined = sum(k * m for k, (m, _) in zip(sizes, per_part)) / n
    se = (sw**2 + sum((k / n * s) ** 2 for k, (_, s) in zip(sizes, per_part))).sqrt()
    slack = 1e-4 * (1 + combined.abs())  # float error, for exact (deterministic) terms
    if (mw - combined).abs() <= z * se + slack:
        return
    total = sum(m for m, _ in per_part)
    total_se = (sw**2 + sum(s**2 for _, s in per_part)).sqrt()
    summed = (mw - total).abs() <= z * total_se + 1e-4 * (1 + total.abs())
    split = ", ".join(f"{m.item():.5g} on {k}" for k, (m, _) in zip(sizes, per_part))
    fail(
        f"{what} is not the batch mean: split into parts, the batch gives {split} examples, "
        f"so {combined.item():.5g} as the mean of all {n}, but the whole batch gives "
        f"{mw.item():.5g}"
        + (
            ", the sum of the parts: summed over the batch instead of averaged; return the "
            "batch mean (.mean(), not .sum())"
            if summed
            else "; reduce the per-example values with .mean() over the batch"
        )
    )


def assert_random(student: torch.Tensor, what: str) -> None:
    """Repeated calls must not all return the same value (a Monte-Carlo estimate varies)."""
    if student.shape[0] > 1 and bool((student == student[0]).all()):
        fail(
            f"{what} is the same in every call: it must use a fresh sample z ~ q(z|x) each "
            "time (the reparameterization trick), not the mean or a fixed draw"
        )
