"""What the study's networks cost: per job, the networks it measured and the hours it spent training and
measuring them, on which CPU or device, read from the jobs' result files (each network records its own seconds).

The reproduce page shows these rows (``compute_rows``) for the profiles of the book, so a reader can plan a re-run.
"""
from __future__ import annotations

from typing import Any

from .summary import load_runs


def compute_rows(profile: str, archive: str | None = None) -> list[dict[str, Any]]:
    """One row per finished job of ``profile`` (or of its ``archive``, :func:`prunelib.sweep.summary.archive_dir`):
    regime, seed, networks measured, training and measuring time (h) and where they ran (the CPU model, or the
    device; "not recorded" for jobs measured before it was). A job whose result predates the timing of its
    measurements shows no measuring time."""
    rows = []
    for run in load_runs(profile, echo=lambda _: None, archive=archive):
        nets = run["networks"]
        measuring = [n.get("measure_seconds") for n in nets]
        where = run["provenance"].get("cpu") if run["provenance"].get("device") == "cpu" else run["provenance"].get("device")
        rows.append({"regime": run["regime"], "seed": run["seed"], "networks": len(nets),
                     "training (h)": round(sum(n.get("seconds") or 0.0 for n in nets) / 3600, 2),
                     "measuring (h)": round(sum(measuring) / 3600, 2) if all(m is not None for m in measuring) else None,
                     "where": where or "not recorded", "complete": bool(run.get("complete", True))})
    return rows
