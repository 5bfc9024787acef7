"""Who submitted what: the identities in a Gradescope export's submission_metadata.yml.

Gradescope's "Export Submissions" zip holds one folder per submission (`submission_<id>`) and
beside them `submission_metadata.yml`, written by Ruby: a mapping from each folder's name to a
record whose keys are Ruby symbols, so they carry a leading colon:

    submission_281234567:
      :submitters:
      - :name: Ada Lovelace
        :sid: '1815'
        :email: ada@example.edu
      :created_at: 2024-03-01 17:04:05.123456000 -08:00
      :score: 12.0
      :history: []

A group submission lists every member under `:submitters:`. Only the submitters are read here.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml

METADATA = "submission_metadata.yml"


@dataclass(frozen=True)
class Submitter:
    """One person behind a submission (empty text where the export has nothing)."""

    name: str = ""
    email: str = ""
    sid: str = ""


class _Loader(yaml.SafeLoader):
    """yaml.safe_load's loader, except that a node Ruby tagged with one of its own classes
    (`!ruby/object:...`, `!ruby/hash:...`) is read as the plain mapping, list or text it holds,
    never as an object, instead of stopping the whole file."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_Loader.add_multi_constructor("!ruby/", _untagged)
_Loader.add_multi_constructor("tag:yaml.org,2002:ruby/", _untagged)


def _field(record: dict, key: str):
    """record[':key'] as Gradescope writes it (record['key'] if a tool rewrote the file)."""
    return record.get(f":{key}", record.get(key))


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def parse(text: str, source: str = METADATA) -> dict[str, list[Submitter]]:
    """{submission folder name: its submitters, in the export's order} from the YAML `text`.

    Raises ValueError, naming `source`, when the text is not such a mapping.
    """
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader: builds plain data only
    except yaml.YAMLError as exc:
        raise ValueError(f"{source} is not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{source} is not a mapping from submission folders to records")
    found: dict[str, list[Submitter]] = {}
    for folder, record in data.items():
        people = _field(record, "submitters") if isinstance(record, dict) else None
        if not isinstance(people, list):
            raise ValueError(f"{source}: {folder!r} has no ':submitters:' list")
        found[str(folder)] = [
            Submitter(*(_text(_field(p, k)) for k in ("name", "email", "sid")))
            for p in people
            if isinstance(p, dict)
        ]
    return found


def read(folder: Path) -> dict[str, list[Submitter]] | None:
    """The submitters of every submission in FOLDER/submission_metadata.yml; None if there is no
    such file. Raises ValueError when the file cannot be read as Gradescope writes it."""
    path = Path(folder) / METADATA
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} could not be read ({exc})") from None
    return parse(text, str(path))
