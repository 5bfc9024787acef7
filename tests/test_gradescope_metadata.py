"""Tests of grader/gradescope_metadata.py: identities from a Gradescope export."""

from pathlib import Path

import pytest

from grader.gradescope_metadata import METADATA, Submitter, parse, read

# As Gradescope's "Export Submissions" writes it (Ruby's YAML: symbol keys with a leading colon,
# quoted SIDs, timestamps with nanoseconds), with a solo, a group and an odd submission.
EXPORT = """\
---
submission_281234567:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1815'
    :email: ada@example.edu
  :created_at: 2024-03-01 17:04:05.123456000 -08:00
  :score: 55.0
  :history:
  - :id: 281230001
    :created_at: 2024-02-29 10:00:00.000000000 -08:00
    :score: 20.0
  :results:
    score: 55.0
    tests:
    - name: sample_gaussian
      score: 6.0
submission_281234568:
  :submitters:
  - :name: Émilie du Châtelet
    :sid: '1706'
    :email: emilie@example.edu
  - :name: Alan Turing
    :sid: '1912'
    :email: alan@example.edu
  :created_at: 2024-03-02 09:00:00.000000000 -08:00
  :score: 0.0
  :history: []
submission_281234569:
  :submitters:
  - :name: Grace Hopper
    :sid: 1906
    :email:
  :created_at: 2024-03-02 09:30:00.000000000 -08:00
  :score:
"""


def test_submitters_of_each_submission_are_read():
    """Are name, email and SID read for every submitter, group members in the export's order?"""
    people = parse(EXPORT)
    assert people == {
        "submission_281234567": [Submitter("Ada Lovelace", "ada@example.edu", "1815")],
        "submission_281234568": [
            Submitter("Émilie du Châtelet", "emilie@example.edu", "1706"),
            Submitter("Alan Turing", "alan@example.edu", "1912"),
        ],
        "submission_281234569": [Submitter("Grace Hopper", "", "1906")],  # unquoted SID, no email
    }


def test_read_finds_the_file_beside_the_submissions(tmp_path: Path):
    """Does read() take SUBMISSIONS/submission_metadata.yml, and say None when there is none?"""
    assert read(tmp_path) is None
    (tmp_path / METADATA).write_text(EXPORT, encoding="utf-8")
    assert read(tmp_path) == parse(EXPORT)


def test_ruby_tagged_nodes_are_read_as_plain_data():
    """Does a node Ruby tagged with its own class read as plain data, not stop the file?"""
    text = EXPORT.replace(
        "  :results:\n    score: 55.0",
        "  :results: !ruby/hash:ActiveSupport::HashWithIndifferentAccess\n    score: 55.0",
    )
    assert text != EXPORT
    assert parse(text) == parse(EXPORT)


@pytest.mark.parametrize(
    "text, why",
    [
        ("submission_1: [unclosed", "not valid YAML"),
        ("- submission_1\n- submission_2\n", "not a mapping"),
        ("submission_1:\n  :score: 3.0\n", "has no ':submitters:' list"),
        ("submission_1: !!python/object/apply:os.getcwd []\n", "not valid YAML"),
    ],
)
def test_a_file_not_in_the_export_format_is_refused(text: str, why: str):
    """Is a damaged or foreign file refused with a reason (and never allowed to run code)?"""
    with pytest.raises(ValueError, match=why):
        parse(text, "subs/submission_metadata.yml")
