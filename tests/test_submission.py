"""Which submitted file is graded as which student file (grader/submission.py), as students
zip them: stale copies, wrapping folders, XCS236's src/submission/, macOS zips, near misses
and damaged archives."""

import zipfile
from pathlib import Path

import pytest

from grader import homeworks
from grader.submission import SubmissionProblem, find, match, read_files, stage

REPO = Path(__file__).resolve().parent.parent
GMVAE = homeworks.get("hw_gmvae_iwae_ssvae")
HW_VAE = homeworks.get("hw_vae")
STUB, REAL = b"raise NotImplementedError\n", b"def f():\n    return 1\n"


def files_of(*paths: str) -> dict[str, bytes]:
    """{path: bytes} in the given order, each path's bytes naming it."""
    return {p: p.encode() for p in paths}


def zip_with(path: Path, members: list[tuple[str, bytes]]) -> Path:
    """A .zip at `path` holding `members` in this order."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def test_exact_path_beats_a_stale_copy_listed_first():
    """Does codebase/models/vae.py win over old/codebase/models/vae.py listed before it?"""
    files = files_of("old/codebase/models/vae.py", "codebase/models/vae.py")
    found = find(files, "codebase/models/vae.py")
    assert found.key == "codebase/models/vae.py"
    assert found.ignored == ["old/codebase/models/vae.py"]


def test_shallowest_copy_wins():
    """Does q1_solution.py win over backup/q1_solution.py, and hw2/codebase over hw2/old?"""
    assert match(files_of("backup/q1_solution.py", "q1_solution.py"), "q1_solution.py") == (
        "q1_solution.py"
    )
    files = files_of("hw2/old/codebase/utils.py", "hw2/codebase/utils.py")
    assert match(files, "codebase/utils.py") == "hw2/codebase/utils.py"


def test_the_homework_layout_beats_a_stray_file_of_that_name():
    """Does hw2/codebase/models/vae.py win over a vae.py nearer the top?"""
    files = files_of("vae.py", "hw2/codebase/models/vae.py")
    assert match(files, "codebase/models/vae.py") == "hw2/codebase/models/vae.py"


def test_ties_are_broken_alphabetically_and_named():
    """Of two equally placed copies, is the first by name graded and the other listed?"""
    found = find(files_of("b/utils.py", "a/utils.py"), "codebase/utils.py")
    assert (found.key, found.ignored) == ("a/utils.py", ["b/utils.py"])


def test_xcs_layout_maps_submission_to_codebase():
    """Are XCS236's src/submission/ files, and its zip of that folder's content, found?"""
    layout = files_of("src/submission/utils.py", "src/submission/models/vae.py", "src/main.py")
    assert match(layout, "codebase/utils.py", GMVAE.aliases) == "src/submission/utils.py"
    assert match(layout, "codebase/models/vae.py", GMVAE.aliases) == (
        "src/submission/models/vae.py"
    )
    zipped = files_of("utils.py", "models/vae.py", "models/nns/v1.py")
    assert match(zipped, "codebase/models/vae.py", GMVAE.aliases) == "models/vae.py"
    both = files_of("src/submission/models/vae.py", "models/vae.py")
    assert match(both, "codebase/models/vae.py", GMVAE.aliases) == "src/submission/models/vae.py"


def test_macos_resource_forks_are_never_graded():
    """Are __MACOSX/ entries and ._ files passed over, even when nothing else matches?"""
    files = files_of("__MACOSX/codebase/._utils.py", "__MACOSX/codebase/utils.py", "._utils.py")
    found = find(files, "codebase/utils.py")
    assert found.key is None and found.near == []
    files["hw/codebase/utils.py"] = REAL
    found = find(files, "codebase/utils.py")
    assert (found.key, found.ignored) == ("hw/codebase/utils.py", [])


@pytest.mark.parametrize(
    "submitted, wanted",
    [
        ("codebase/Utils.py", "codebase/utils.py"),
        ("q1_solution (1).py", "q1_solution.py"),
        ("q1_solution - Copy.py", "q1_solution.py"),
        ("q1_solution.ipynb", "q1_solution.py"),
    ],
)
def test_near_misses_are_named(submitted, wanted):
    """Is a file in another case, a browser's copy or a notebook named as a near miss?"""
    found = find(files_of(submitted, "README.md"), wanted)
    assert found.key is None and found.near == [submitted]


def test_stage_grades_the_real_file_and_names_the_stale_one(tmp_path):
    """In a zip listing old/codebase/models/vae.py first, is the real file staged and noted?"""
    zipped = zip_with(
        tmp_path / "sub.zip",
        [("old/codebase/models/vae.py", STUB), ("codebase/models/vae.py", REAL)],
    )
    staged = stage(GMVAE, zipped, tmp_path / "work")
    assert (staged.tree / "codebase/models/vae.py").read_bytes() == REAL
    assert staged.found["codebase/models/vae.py"] == "codebase/models/vae.py"
    (note,) = [n for n in staged.notes if n.startswith("codebase/models/vae.py")]
    assert "graded codebase/models/vae.py" in note and "old/codebase/models/vae.py" in note


def test_stage_names_the_near_miss_in_its_note(tmp_path):
    """Does the note of a missing utils.py say: found Utils.py, rename it to utils.py?"""
    folder = tmp_path / "sub"
    (folder / "codebase").mkdir(parents=True)
    (folder / "codebase/Utils.py").write_bytes(REAL)
    (folder / "q1_solution.ipynb").write_bytes(b"{}")
    staged = stage(GMVAE, folder, tmp_path / "work")
    assert any("found codebase/Utils.py: rename it to utils.py" in n for n in staged.notes)
    staged = stage(HW_VAE, folder, tmp_path / "work2")
    (note,) = [n for n in staged.notes if n.startswith("q1_solution.py")]
    assert "found q1_solution.ipynb" in note and "save its code as q1_solution.py" in note


def test_damaged_zip_is_called_damaged(tmp_path):
    """Is a zip cut short called damaged, and a non-zip neither a folder nor a .zip?"""
    whole = zip_with(tmp_path / "whole.zip", [("codebase/utils.py", REAL * 200)])
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(SubmissionProblem, match="damaged"):
        read_files(cut)
    text = tmp_path / "text.zip"
    text.write_text("not an archive\n")
    with pytest.raises(SubmissionProblem, match="neither a folder nor a .zip"):
        read_files(text)
    (tmp_path / "empty.zip").write_bytes(b"")
    with pytest.raises(SubmissionProblem, match="empty"):
        read_files(tmp_path / "empty.zip")


def test_a_zip_inside_the_submitted_folder_is_graded(tmp_path):
    """Does a folder holding hw2.zip (an upload that Gradescope kept zipped, beside a notes
    file) grade the zip's files, name the path inside the zip, and let a file outside the zip
    at the exact path win?"""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes\n")
    zip_with(folder / "hw2.zip", [("my_hw2/codebase/models/vae.py", REAL)])
    staged = stage(GMVAE, folder, tmp_path / "work")
    assert (staged.tree / "codebase/models/vae.py").read_bytes() == REAL
    assert staged.found["codebase/models/vae.py"] == "hw2.zip/my_hw2/codebase/models/vae.py"
    (folder / "codebase/models").mkdir(parents=True)
    (folder / "codebase/models/vae.py").write_bytes(b"# outside the zip\n")
    staged = stage(GMVAE, folder, tmp_path / "work2")
    assert staged.found["codebase/models/vae.py"] == "codebase/models/vae.py"


def test_zip_with_a_stale_stub_grades_the_real_file(tmp_path):
    """Graded end to end, does a zip with backup/q1_solution.py (the stub) listed first earn
    full marks on Problem 1 and say which file it graded?"""
    from grader import run

    members = [("backup/q1_solution.py", (REPO / "hw_vae/q1_solution.py").read_bytes())]
    members += [(f, (REPO / "solutions/hw_vae" / f).read_bytes()) for f in HW_VAE.student_files]
    zipped = zip_with(tmp_path / "sub.zip", members)
    result = run.main("hw_vae", zipped, pytest_args=("-o", "python_files=test_q1.py"))
    assert result.tests and all(t.passed for t in result.tests), [t.output for t in result.tests]
    assert any("graded q1_solution.py, ignored backup/q1_solution.py" in n for n in result.notes)


@pytest.mark.parametrize("aliases", [{"submission": "codebase"}, {}])
def test_worker_imports_submission_as_codebase_itself(tmp_path, aliases):
    """With the homework's alias, do `from submission import utils` and `import
    submission.models.nns` give the very modules codebase.utils and codebase.models.nns (one
    object per file, so that helpers patched by identity reach them); without, is the import
    refused?"""
    from grader.messages import Import
    from grader.sandbox import Limits, Sandbox

    folder = tmp_path / "sub" / "src" / "submission" / "models"
    folder.mkdir(parents=True)
    (folder / "vae.py").write_text(
        "from submission import utils as ut\n"
        "import submission.models.nns as nns_alias\n"
        "import codebase.utils\n"
        "from codebase.models import nns\n"
        "assert ut is codebase.utils and nns_alias is nns, 'two copies of one file'\n"
    )
    staged = stage(GMVAE, tmp_path / "sub", tmp_path / "work")
    sandbox = Sandbox(staged.tree, Limits(timeout=60, aliases=aliases))
    try:
        reply = sandbox.call(Import(("codebase.models.vae",)))
    finally:
        sandbox.close()
    errors = reply.result.errors
    if aliases:
        assert errors == {}, errors
    else:
        assert "No module named 'submission'" in errors["codebase.models.vae"].message
