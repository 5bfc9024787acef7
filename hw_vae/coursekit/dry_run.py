"""Where a --dry-run writes: beside a real run's outputs, under a name ending in _dryrun.

A dry run checks in seconds that a script works end to end, so it saves everything a real run
saves: checkpoints, pictures, numbers. It must never save them over a real run's, which may
hold hours of training. Every run script therefore sends a dry run's outputs to the same
path with `_dryrun` added to the last name (q3_results/ -> q3_results_dryrun/, a checkpoint
folder model=vae_run=0000/ -> model=vae_run=0000_dryrun/), a name no real run uses.
"""

from pathlib import Path

SUFFIX = "_dryrun"


def dry_run_name(name: str) -> str:
    """The name of a dry run's outputs: `name` + '_dryrun' ('model=vae' -> 'model=vae_dryrun')."""
    return name + SUFFIX


def dry_run_path(path: str | Path) -> Path:
    """`path` with '_dryrun' added to its last name, before any extension.

    'q3_results' -> 'q3_results_dryrun', 'svhn_vae_results/flow-gaussian' ->
    'svhn_vae_results/flow-gaussian_dryrun', 'weights.pt' -> 'weights_dryrun.pt'; '.' (the
    current folder) -> '../<its name>_dryrun'.
    """
    path = Path(path)
    if path.name in ("", ".", ".."):  # no last name to extend: use the folder's real name
        path = path.resolve()
    if not path.name:
        raise ValueError(f"{path} has no name to add {SUFFIX} to: pass a folder below it")
    return path.with_name(dry_run_name(path.stem) + path.suffix)


def output_path(path: str | Path, dry_run: bool) -> Path:
    """Where a run writes what it would write to `path`: `path` itself for a real run, its
    `dry_run_path` for a dry run. A dry run also prints where its outputs go."""
    if not dry_run:
        return Path(path)
    redirected = dry_run_path(path)
    print(f"dry run: writing to {redirected}, not {path}, which only real runs write")
    return redirected


def flag_help(what: str, where: str = "the --out folder + '_dryrun'") -> str:
    """The help text of a --dry-run flag: what a dry run does, then where it writes."""
    return f"{what}; writes to {where}, never over a real run's outputs"
