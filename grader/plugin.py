"""pytest plugin: graded markers, tiers, and one TestResult per test (never a lost result)."""

import traceback
from dataclasses import dataclass

import pytest

from grader.results import TestResult
from grader.sandbox import Sandbox
from grader.submission import Staged

TIERS = ("quick", "full")
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
MARKERS = {
    "points(n)": "the test is worth n points, earned only when it passes",
    "item(label)": "the handout item that the test grades, e.g. '1.1'",
    "tier(name)": "'quick' (default: run in every tier) or 'full' (full tier only)",
    "visibility(name)": f"Gradescope visibility, one of {', '.join(VISIBILITIES)}",
}


@pytest.fixture(scope="session")
def grading(request: pytest.FixtureRequest) -> "Context":
    """The grading run's Context (registered with this module as a plugin by grader.run)."""
    return request.config.stash[CONTEXT]


@pytest.fixture(scope="session")
def sandbox(grading: "Context") -> Sandbox:
    """The worker process that runs the submission."""
    return grading.sandbox


class StudentCodeError(Exception):
    """The student's code raised, hung or crashed; `status` says which."""

    def __init__(self, status: str, message: str, instructor: str = ""):
        super().__init__(message)
        self.status, self.instructor = status, instructor


class GraderError(Exception):
    """The grader failed, not the student's code (e.g. the worker refused a request)."""

    def __init__(self, message: str, instructor: str = ""):
        super().__init__(message)
        self.instructor = instructor


CONTEXT = pytest.StashKey["Context"]()


@dataclass
class Context:
    """What the hidden tests need to know about this grading run."""

    homework: str
    tier: str
    staged: Staged
    sandbox: Sandbox
    data_root: str | None = None
    visibility: str = "visible"  # of every test that sets none with @visibility


def _parse_marker(item: pytest.Item, name: str, default, allowed=None):
    """The single positional argument of marker `name`; anything else is an error."""
    marker = item.get_closest_marker(name)
    if marker is None:
        return default
    if marker.kwargs or len(marker.args) != 1:
        raise pytest.UsageError(f"{item.nodeid}: @{name} takes exactly one positional argument")
    value = marker.args[0]
    if allowed is not None and value not in allowed:
        raise pytest.UsageError(f"{item.nodeid}: @{name}({value!r}) must be one of {allowed}")
    return value


class GradingPlugin:
    """Registered by grader.run; collects a TestResult for every graded test."""

    def __init__(self, context: Context, preflight: tuple | None = None):
        self.context = context
        self.results: list[TestResult] = []
        self.notes: list[str] = []  # about the submission as a whole (the preflight's)
        self._by_id: dict[str, TestResult] = {}
        self._preflight = preflight  # (modules, fallbacks, timeout) of Sandbox.preflight

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Before the first test: import the student's modules once (Sandbox.preflight)."""
        if self._preflight is not None:
            self.notes.extend(self.context.sandbox.preflight(*self._preflight))

    def pytest_configure(self, config: pytest.Config) -> None:
        """Register the graded markers and hand the hidden tests this run's Context."""
        for spec, help_text in MARKERS.items():
            config.addinivalue_line("markers", f"{spec}: {help_text}")
        config.stash[CONTEXT] = self.context

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list) -> None:
        """Keep the tests of this tier and register a result for each of them."""
        keep = [
            i
            for i in items
            if self.context.tier == "full" or _parse_marker(i, "tier", "quick", TIERS) == "quick"
        ]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
        for item in keep:
            self._register(item)

    def _register(self, item: pytest.Item) -> None:
        doc = (getattr(item.function, "__doc__", None) or item.name).strip().splitlines()[0]
        result = TestResult(
            name=doc,
            max_score=float(_parse_marker(item, "points", 0)),
            score=0.0,
            status="error",
            output="the test did not run",
            item=str(_parse_marker(item, "item", "")),
            visibility=_parse_marker(item, "visibility", self.context.visibility, VISIBILITIES),
        )
        self._by_id[item.nodeid] = result
        self.results.append(result)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        """Turn each test's report into its TestResult (failures with their verdict)."""
        report = yield
        result = self._by_id.get(item.nodeid)
        if result is None or (call.when != "call" and report.passed):
            return report
        if report.passed:
            result.status, result.score, result.output = "passed", result.max_score, ""
        elif report.skipped:  # not graded, so not counted either
            result.status, result.max_score = "skipped", 0.0
            result.output = str(getattr(call.excinfo.value, "msg", "")) if call.excinfo else ""
        else:
            self._record_failure(result, call.excinfo)
        return report

    @staticmethod
    def _record_failure(result: TestResult, excinfo) -> None:
        exc = excinfo.value
        result.score = 0.0
        if isinstance(exc, StudentCodeError):
            result.status, result.output, result.instructor_output = (
                exc.status,
                str(exc),
                exc.instructor,
            )
        elif isinstance(exc, AssertionError):
            result.status, result.output = "failed", str(exc).split("\nassert ")[0]
        else:
            result.status = "error"
            result.output = "the grader itself failed on this test; course staff will look at it"
            result.instructor_output = "".join(traceback.format_exception(exc))
            if isinstance(exc, GraderError):
                result.instructor_output += f"\n{exc}\n{exc.instructor}"
