"""One grading of a batch, in its own process: `python -m grader.batch_child SPEC_JSON`.

grader.batch starts one per student. The child grades the submission into a private folder
inside OUT/<student>/, then commits the results and the student's row there atomically, so
an interrupted batch never leaves a half-written result behind.
"""

import json
import os
import shutil
import signal
import sys
from dataclasses import asdict
from pathlib import Path

from grader import run
from grader.batch import RESULTS, commit, graded_by
from grader.fileio import PARTIAL
from grader.grade_table import summarize


def main(spec: dict) -> int:
    """Grade spec['submission'] as spec says; commit into spec['student_dir']."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # unwind: the sandbox is closed
    student_dir = Path(spec["student_dir"])
    tmp = student_dir / f"{PARTIAL}{os.getpid()}"
    tmp.mkdir(parents=True)
    try:
        result = run.main(
            spec["homework"],
            Path(spec["submission"]),
            tier=spec["tier"],
            results=tmp / RESULTS[0],
            instructor_results=tmp / RESULTS[1],
            data_root=spec["data_root"],
            threads=spec["threads"],
            timeout=spec["timeout"],
            pytest_args=run.only_files(spec["only"]),
        )
        row = summarize(spec["student"], result, spec["only"])
        files = {name: (tmp / name).read_text() for name in RESULTS}
        marker = {"fingerprint": spec["fingerprint"], "graded_by": graded_by(spec.get("shard"))}
        commit(student_dir, files, {**marker, **asdict(row)})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
