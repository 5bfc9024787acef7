"""Derive the full tier's acceptance bands from the calibration runs.

    python -m grader.hw_gmvae_iwae_ssvae.bands        # reads calibration/runs.jsonl

For each number a band is mean +- max(4 sd, floor) over the reference runs of the handout's
schedule; the floors keep a band from being narrower than the run-to-run spread that five
runs can estimate. The result is written to calibration/bands.json, which the full tier reads.
"""

import json
import statistics
from pathlib import Path

from grader.hw_gmvae_iwae_ssvae.calibrate import LABELLED
from grader.hw_gmvae_iwae_ssvae.protocol import MODELS

HERE = Path(__file__).resolve().parent / "calibration"
RUNS, BANDS = HERE / "runs.jsonl", HERE / "bands.json"
FLOORS = {"nelbo": 1.5, "kl": 1.5, "rec": 1.5, "iwae_1000": 1.5, "iwae_gap": 1.0, "accuracy": 0.03}
MIN_RUNS = 5


def load_runs(path: Path = RUNS) -> list[dict]:
    """The calibration runs of `path`, each with its IWAE-1 minus IWAE-1000 gap."""
    runs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for r in runs:
        if "iwae_1" in r:
            r["iwae_gap"] = r["iwae_1"] - r["iwae_1000"]
    return runs


def band(values: list[float], floor: float) -> dict:
    """mean +- max(4 sd, floor) of `values`, with the mean, sd and number of runs."""
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    half = max(4 * sd, floor)
    return {
        "mean": round(mean, 4),
        "sd": round(sd, 4),
        "low": round(mean - half, 4),
        "high": round(mean + half, 4),
        "runs": len(values),
    }


def derive(runs: list[dict]) -> dict:
    """{kind: {number: band}} for every kind and number present in the runs."""
    out: dict = {}
    for kind in sorted({r["kind"] for r in runs}):
        mine = [
            r
            for r in runs
            if r["kind"] == kind
            and r["iters"] == full_schedule(kind)
            and (not kind.startswith("ssvae") or r.get("labelled") == LABELLED)
        ]
        for key, floor in FLOORS.items():
            values = [r[key] for r in mine if key in r]
            if values:
                out.setdefault(kind, {})[key] = band(values, floor)
    return out


def full_schedule(kind: str) -> int:
    """The steps of the schedule whose runs calibrate `kind` (protocol.MODELS)."""
    return MODELS[kind][3]


def main() -> None:
    """Rewrite bands.json from runs.jsonl and print the table."""
    bands = derive(load_runs())
    BANDS.write_text(json.dumps(bands, indent=2) + "\n")
    for kind, numbers in bands.items():
        for key, b in numbers.items():
            flag = "" if b["runs"] >= MIN_RUNS else f"  (only {b['runs']} runs)"
            print(
                f"{kind:10} {key:10} {b['mean']:9.4f} +- {b['sd']:.4f}  "
                f"band [{b['low']:.4f}, {b['high']:.4f}]{flag}"
            )


if __name__ == "__main__":
    main()
