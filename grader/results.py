"""Results of a grading run: plain dataclasses at the bottom of the import graph."""

from dataclasses import dataclass, field


@dataclass
class TestResult:
    """One graded check. `output` is shown to the student; `instructor_output` is not."""

    __test__ = False  # a result, not a test class for pytest to collect

    name: str
    max_score: float
    score: float
    status: str  # passed | failed | error | timeout | crashed | skipped
    output: str = ""
    item: str = ""
    visibility: str = "visible"
    instructor_output: str = ""

    @property
    def passed(self) -> bool:
        """Whether the check earned its points."""
        return self.status == "passed"


EXIT_STATUS = {"graded": 0, "not graded": 3, "grader error": 4}


@dataclass
class GradingResult:
    """Every check of one submission, plus notes about the submission as a whole.

    status: 'graded' (whatever the score), 'not graded' (the submission could not be read) or
    'grader error' (the grader failed, not the student's code). partial: only some hidden test
    files ran (course staff's --only), so the total is not a grade.
    """

    homework: str
    tier: str
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # shown to the student
    instructor_notes: list[str] = field(default_factory=list)  # course staff only
    seconds: float = 0.0
    status: str = "graded"
    partial: bool = False
    public: list[TestResult] = field(default_factory=list)  # the public checks, if they ran

    @property
    def exit_status(self) -> int:
        """The command line's exit status for this result (see grader.cli.EXIT_CODES)."""
        return EXIT_STATUS[self.status]

    @property
    def total(self) -> float:
        """Points earned."""
        return round(sum(t.score for t in self.tests), 4)

    @property
    def possible(self) -> float:
        """Points at stake."""
        return round(sum(t.max_score for t in self.tests), 4)
