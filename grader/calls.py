"""Calls into the student's code from the hidden tests: build a request, run it, judge the reply.

Every harness builds its requests with these functions (or the dataclasses of grader.messages
directly), so a request is checked field by field before it leaves the grader.
"""

from grader.messages import Call, CallResult, Grad, Init, Request
from grader.plugin import GraderError, StudentCodeError
from grader.sandbox import Sandbox

STATUS = {"exception": "failed", "timeout": "timeout", "crashed": "crashed"}


def run(sandbox: Sandbox, request: Request, timeout: float | None = None):
    """One worker call: its result, or StudentCodeError (the student's exception, hang or
    crash) or GraderError (the worker refused the request: a bug of the grader's)."""
    outcome = sandbox.call(request, timeout)
    if outcome.ok:
        if isinstance(request, Call):
            _check_call(outcome.result, request)
        return outcome.result
    instructor = (outcome.error.traceback if outcome.error else "") + (
        "\n--- worker log ---\n" + outcome.log_tail
    )
    if outcome.status == "grader":
        raise GraderError(outcome.student_message(), instructor)
    raise StudentCodeError(STATUS[outcome.status], outcome.student_message(), instructor)


def _check_call(result: CallResult, request: Call) -> None:
    """A call's reply has one run per repeat, with gradients when they were asked for."""
    complete = len(result.runs) == request.repeat and all(
        (run.grads is not None) == (request.grad is not None) for run in result.runs
    )
    if not complete:
        raise StudentCodeError(
            "failed", "the worker's reply is malformed: did your code change the grader's?"
        )


def function(
    sandbox: Sandbox,
    target: str,
    *args,
    kwargs: dict | None = None,
    init: Init | None = None,
    repeat: int = 1,
    seed: int = 0,
    grad: Grad | None = None,
    patches: dict | None = None,
    fallbacks: dict | None = None,
    timeout: float | None = None,
) -> CallResult:
    """Call the student's `target` ('module:function'; with `init` and no init.arg,
    'module:Class.method' on the object init builds)."""
    request = Call(
        target,
        args=args,
        kwargs=kwargs or {},
        repeat=repeat,
        seed=seed,
        grad=grad,
        init=init,
        patches=patches or {},
        fallbacks=fallbacks or {},
    )
    return run(sandbox, request, timeout)


def method(sandbox: Sandbox, init: Init, name: str, *args, **options) -> CallResult:
    """Call method `name` of the object that `init` builds (init.target is 'module:Class');
    `options` are those of `function`."""
    return function(sandbox, f"{init.target}.{name}", *args, init=init, **options)
