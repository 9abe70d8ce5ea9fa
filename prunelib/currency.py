"""Whether something the study made is current: one rule for every cached thing.

Everything the study keeps so as not to compute it again records the inputs it was made from, as a JSON mapping:

- a network's run folder (``run.json``): the data's contents, the recipe, the parent checkpoint's digest, the
  training code's version (:data:`prunelib.training.CODE_VERSION`); :func:`prunelib.runs.claim`;
- a job's measurements: its profile, seed, regime, settings, the data's contents, the training code's version, the
  measurement protocol (:data:`prunelib.measure.PROTOCOL`) and the networks it measured (identity and checkpoint
  digest); :func:`prunelib.sweep.records.stale`;
- concept metrics and pictures: their settings and the networks they show; :func:`prunelib.sweep.concepts.is_current`,
  :func:`prunelib.sweep.pictures.is_current`;
- an aggregation: the digest of the result files it is drawn from, the profile's settings and the data;
  :func:`prunelib.sweep.aggregate.aggregation_stale`;
- a chapter: its parameters, its notebook, the source of the code it imports and the digest of the result files it
  reads; :func:`prunelib.fingerprints.stage_inputs`.

It is current while the same inputs, declared now, are equal to the recorded ones: :func:`why_stale` says which
differ, and nothing else decides. The code's version is declared next to the code that computes the thing: the
training code and the measurement protocol carry a number that a change of what they compute bumps (hours of
training are not thrown away for a changed comment); a chapter, minutes to draw, is versioned by its code's source.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping, Sequence


def canonical(value: Any) -> Any:
    """``value`` as JSON reads it back (tuples become lists, keys strings): what a record on disk compares equal to."""
    return json.loads(json.dumps(value, default=str))


def digest(value: Any) -> str:
    """sha256 of ``value`` as canonical JSON (sorted keys): one digest for one set of inputs, on any machine."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, v in value.items():
        if isinstance(v, Mapping) and v:
            out.update(_flatten(v, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = v
    return out


def why_stale(recorded: Mapping[str, Any] | None, now: Mapping[str, Any]) -> list[str]:
    """Why a thing that recorded the inputs ``recorded`` is not current for the inputs ``now``: one line per input
    that differs, nested keys dotted (``["params.epochs: was 1, now 2", ...]``). Empty: current.

    ``recorded`` None (nothing records what the thing was made from) is never current."""
    if recorded is None:
        return ["nothing records what it was made from"]
    a, b = _flatten(canonical(recorded)), _flatten(canonical(now))
    return [f"{k}: was {_shown(a.get(k))}, now {_shown(b.get(k))}" for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k)]


def _shown(value: Any, width: int = 72) -> str:
    """A value in a line of :func:`why_stale`: its repr, a digest cut to 12 characters, anything long cut."""
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return repr(value[:12] + "...")
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def networks(records: Sequence[Mapping[str, Any]], like: Sequence[Mapping[str, Any]] | None = None
             ) -> list[dict[str, Any]]:
    """The networks ``records`` name, as inputs: each one's run identity and checkpoint digest (its weights: the
    same identity trained on another CPU gives other weights). ``like``: the records a thing recorded; where those
    predate checkpoint digests (identity only), the networks are compared by identity, as they were recorded."""
    by_identity = like is not None and any("checkpoint_sha256" not in r for r in like)
    return [{"identity": r["identity"]} if by_identity else
            {"identity": r["identity"], "checkpoint_sha256": r.get("checkpoint_sha256")} for r in records]
