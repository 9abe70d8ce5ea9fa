"""The one rule of currency (prunelib.currency): a thing is current while its recorded inputs equal the same inputs
declared now; known answers on small mappings."""
from __future__ import annotations

from prunelib import currency


def test_equal_inputs_are_current_whatever_their_order_or_json_form() -> None:
    recorded = {"params": {"epochs": 2, "levels": [10, 20]}, "code": 2}
    now = {"code": 2, "params": {"levels": (10, 20), "epochs": 2}}  # a tuple reads back from JSON as a list
    assert currency.why_stale(recorded, now) == []
    assert currency.digest(recorded) == currency.digest(currency.canonical(now))


def test_each_differing_input_is_named_with_its_dotted_key() -> None:
    why = currency.why_stale({"params": {"epochs": 1}, "code": 2}, {"params": {"epochs": 2}, "code": 3})
    assert why == ["code: was 2, now 3", "params.epochs: was 1, now 2"]


def test_an_input_added_or_removed_is_a_difference() -> None:
    assert currency.why_stale({"a": 1}, {"a": 1, "b": 2}) == ["b: was None, now 2"]
    assert currency.why_stale({"a": 1, "b": {}}, {"a": 1}) == ["b: was {}, now None"]


def test_nothing_recorded_is_never_current() -> None:
    assert currency.why_stale(None, {}) == ["nothing records what it was made from"]


def test_a_digest_is_shown_short_and_a_long_value_cut() -> None:
    a, b = "a" * 64, "b" * 64
    assert currency.why_stale({"x": a}, {"x": b}) == ["x: was 'aaaaaaaaaaaa...', now 'bbbbbbbbbbbb...'"]
    (line,) = currency.why_stale({"x": list(range(100))}, {"x": []})
    assert len(line) < 100 and line.endswith("now []")


def test_networks_are_compared_by_weights_unless_recorded_by_identity_only() -> None:
    measured = {"identity": "i0", "checkpoint_sha256": "a" * 64}
    retrained = {"identity": "i0", "checkpoint_sha256": "b" * 64}  # the same inputs trained on another CPU
    assert currency.why_stale({"n": currency.networks([measured])}, {"n": currency.networks([retrained])})
    old = [{"identity": "i0"}]  # a record of before checkpoint digests were kept
    assert not currency.why_stale({"n": currency.networks(old, like=old)},
                                  {"n": currency.networks([retrained], like=old)})
