"""Results of a grading run: plain dataclasses at the bottom of the import graph."""

from dataclasses import dataclass, field


@dataclass
class TestResult:
    """One graded check. `output` is shown to the student; `instructor_output` is not."""

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
        return self.status == "passed"


@dataclass
class GradingResult:
    """Every check of one submission, plus notes about the submission as a whole."""

    homework: str
    tier: str
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def possible(self) -> float:
        return round(sum(t.max_score for t in self.tests), 4)
