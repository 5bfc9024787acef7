"""The grader on tests/corpus/: real-style submissions to the original courses, written from
the patterns of public student repositories, each graded as submitted and compared with the
verdict a fair grader gives, item by item (see tests/corpus/README.md).

Each case is graded once per session on the quick tier, in a pool of two spawned processes as
tests/test_catalogue.py does; one test per (case, item) then reads its result. An item marked
"pending" in its case's expected.json is a verdict that today's grader does not give yet: its
test is an expected failure (strict, so that the fix shows up as a pass to unmark).
"""

import json
import multiprocessing
import shutil
import tempfile
import time
import traceback
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from submissions import scores_by_item

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = {p.parent.name: json.loads(p.read_text()) for p in sorted(CORPUS.glob("*/expected.json"))}
PROCESSES = 2  # as tests/test_catalogue.py: two cores, each grading also runs a worker
WORDS = ("full", "zero", "lost")  # or a number of points


def submission_of(case: str, tmp: Path) -> Path:
    """The case as the student submitted it: its folder, or a zip of it (`zip` in expected)."""
    folder, name = CORPUS / case, CASES[case].get("zip")
    if name is None:
        return folder
    path = tmp / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(p for p in folder.rglob("*") if p.is_file()):
            if f.name != "expected.json":
                zf.write(f, f.relative_to(folder).as_posix())
    return path


def grade(case: str) -> dict:
    """Grade one case on the quick tier (runs in a pool process): scores per item, notes."""
    import torch

    from grader import run
    from grader.serialize import table

    torch.set_num_threads(1)  # the pool's two processes share two cores
    start = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="corpus-"))
    try:
        result = run.main(CASES[case]["homework"], submission_of(case, tmp), tier="quick")
    except Exception:  # the grader itself broke: report it on this case, grade the others
        return {"problem": f"grading {case} raised:\n{traceback.format_exc()}"}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "scores": scores_by_item(result),
        "notes": list(result.notes),
        "table": table(result) + "\nnotes:\n" + "\n".join(result.notes),
        "seconds": time.time() - start,
    }


def selected_cases(session: pytest.Session) -> list[str]:
    """The cases whose tests this session runs (all unless -k narrows it)."""
    cases = []
    for item in session.items:
        spec = getattr(item, "callspec", None)
        if item.module.__name__ == __name__ and spec and "case" in spec.params:
            cases.append(spec.params["case"])
    return list(dict.fromkeys(cases))


@pytest.fixture(scope="session")
def graded(request: pytest.FixtureRequest) -> dict:
    """case -> grade(case), for every selected case, computed once per session."""
    cases = selected_cases(request.session)
    context = multiprocessing.get_context("spawn")
    start = time.time()
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        results = dict(zip(cases, pool.map(grade, cases)))
    print(
        f"\ngraded {len(cases)} corpus cases in {time.time() - start:.0f} s: "
        + ", ".join(f"{c} {r['seconds']:.0f} s" for c, r in results.items() if "seconds" in r)
    )
    return results


def item_params() -> list:
    """One pytest param per (case, item); a pending item is a strict expected failure."""
    params = []
    for case, spec in CASES.items():
        for item, want in spec["items"].items():
            marks = []
            if "pending" in want:
                marks.append(pytest.mark.xfail(reason=want["pending"], strict=True))
            params.append(pytest.param(case, item, marks=marks, id=f"{case}:{item}"))
    return params


def meets(score: tuple, want) -> bool:
    """Does (score, max score) meet the expected verdict: full, zero, lost or exact points?"""
    got, top = score
    if want == "full":
        return got == top > 0
    if want == "zero":
        return got == 0 < top
    if want == "lost":
        return got < top
    return abs(got - float(want)) < 1e-9


@pytest.mark.parametrize("case, item", item_params())
def test_item_gets_its_fair_verdict(graded, case, item):
    """Does this item of this real-style submission get the verdict a fair grader gives?"""
    result, want = graded[case], CASES[case]["items"][item]
    if "problem" in result:
        pytest.fail(result["problem"])
    score = result["scores"].get(item)
    assert score is not None, f"{case}: no test graded item {item}\n{result['table']}"
    assert meets(score, want["score"]), (
        f"{case}: item {item} got {score[0]:g}/{score[1]:g}, expected {want['score']} "
        f"({want['why']})\n{result['table']}"
    )


@pytest.mark.parametrize("case", list(CASES))
def test_case_is_described_whole(graded, case):
    """Does expected.json give a verdict for every graded item, and do the notes it expects
    (which file was graded, what was ignored) appear?"""
    result, spec = graded[case], CASES[case]
    if "problem" in result:
        pytest.fail(result["problem"])
    assert set(spec["items"]) == set(result["scores"]), f"{case}: items\n{result['table']}"
    for want in spec["items"].values():
        assert want["score"] in WORDS or isinstance(want["score"], (int, float)), want
    for text in spec.get("notes", []):
        assert any(text in n for n in result["notes"]), f"{case}: no note with {text!r}"
