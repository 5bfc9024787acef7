"""Assertions of the hidden tests: exact where the answer is exact, statistical where random.

Every failure message is written for the student: what was expected, what came back, by how
much it is off and where.
"""

import math

import torch

from grader.messages import CallResult


def fail(message: str):
    raise AssertionError(message)


def outputs(result: CallResult, count: int, what: str, scalars: bool = False) -> list[torch.Tensor]:
    """Per output, the values of every repeat stacked along a new first dimension.

    scalars: each output is one number (shape () or (1,), the batch average), stacked to
    shape (repeats,).
    """
    runs = [run.outputs for run in result.runs]
    got = len(runs[0])
    if got != count:
        fail(f"{what} returned {got} value(s); it must return {count}")
    if scalars:
        for i, o in enumerate(runs[0]):
            if o.numel() != 1:
                fail(
                    f"output {i} of {what} has shape {tuple(o.shape)}: each value the bound "
                    "returns is one number, averaged over the batch"
                )
        runs = [[o.reshape(()) for o in run] for run in runs]
    try:
        stacked = [torch.stack([run[i] for run in runs]) for i in range(count)]
    except RuntimeError:
        fail(f"{what} returned values of different shapes in different calls")
    for i, t in enumerate(stacked):  # a NaN would pass every comparison below it
        check_finite(t, what if count == 1 else f"output {i} of {what}")
    return stacked


def check_shape(t: torch.Tensor, shape: tuple, what: str) -> None:
    if tuple(t.shape) != tuple(shape):
        fail(f"{what} has shape {tuple(t.shape)}; expected {tuple(shape)}")


def check_finite(t: torch.Tensor, what: str) -> None:
    bad = ~torch.isfinite(t)
    if bad.any():
        idx = tuple(bad.nonzero()[0].tolist())
        fail(f"{what} holds {int(bad.sum())} non-finite value(s), e.g. {t[idx].item()} at {idx}")


def assert_close(
    actual: torch.Tensor, expected: torch.Tensor, what: str, rtol: float = 1e-5, atol: float = 1e-6
) -> None:
    """Elementwise closeness; the message gives the worst entry and both errors."""
    check_shape(actual, expected.shape, what)
    check_finite(actual, what)
    a, e = actual.double(), expected.double()
    err = (a - e).abs()
    allowed = atol + rtol * e.abs()
    if (err > allowed).any():
        worst = tuple(int(i) for i in torch.unravel_index((err - allowed).argmax(), err.shape))
        rel = err[worst] / e[worst].abs().clamp_min(1e-12)
        fail(
            f"{what} is wrong: max abs error {err.max().item():.4g}, at index {worst} "
            f"got {a[worst].item():.6g} but expected {e[worst].item():.6g} "
            f"(relative error {rel.item():.3g})"
        )


def mean_se(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard error over the first dimension."""
    x = x.double()
    return x.mean(0), x.std(0) / math.sqrt(x.shape[0])


def assert_same_mean(
    student: torch.Tensor, reference: torch.Tensor, what: str, z: float = 5.0, atol: float = 1e-4
) -> None:
    """The expectations of two Monte-Carlo estimates agree within z standard errors.

    student, reference: (repeats, ...) independent draws of the same estimator.
    """
    check_finite(student, what)
    (ms, ss), (mr, sr) = mean_se(student), mean_se(reference)
    bound = z * (ss**2 + sr**2).sqrt() + atol * (1 + mr.abs())
    gap = (ms - mr).abs()
    if (gap > bound).any():
        worst = int((gap - bound).argmax()) if gap.dim() else None
        pick = (lambda t: t.flatten()[worst]) if worst is not None else (lambda t: t)
        sigma = pick(gap) / pick((ss**2 + sr**2).sqrt()).clamp_min(1e-12)
        where = f" (entry {worst})" if worst is not None else ""
        fail(
            f"{what}{where}: your average over {student.shape[0]} calls is "
            f"{pick(ms).item():.5g} +- {pick(ss).item():.2g}, but the correct expectation is "
            f"{pick(mr).item():.5g} +- {pick(sr).item():.2g}: {sigma.item():.1f} standard "
            "errors apart"
        )


def assert_random(student: torch.Tensor, what: str) -> None:
    """Repeated calls must not all return the same value (a Monte-Carlo estimate varies)."""
    if student.shape[0] > 1 and bool((student == student[0]).all()):
        fail(
            f"{what} is the same in every call: it must use a fresh sample z ~ q(z|x) each "
            "time (the reparameterization trick), not the mean or a fixed draw"
        )
