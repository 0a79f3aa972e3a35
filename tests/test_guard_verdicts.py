"""The guard gives the recorded verdict on every labelled text (tests/data/guard_verdicts.jsonl).

The snapshot was taken with tests/guard_snapshot.py; a change meant only to make the guard faster must
leave every verdict, offset, rule and suggestion as it was. When the catalogue, the concepts or the
review model change on purpose, the fingerprint differs and the snapshot is taken again.
"""

from __future__ import annotations

import json

import pytest
from guard_snapshot import SNAPSHOT, data_fingerprint, snapshot_guard, snapshot_texts, verdict_record


def _recorded() -> tuple[str, dict[str, dict]]:
    """Return the fingerprint and the records of the snapshot, by source."""
    lines = SNAPSHOT.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0])
    records = {}
    for line in lines[1:]:
        record = json.loads(line)
        records[record["src"]] = record
    return head["fingerprint"], records


def test_the_snapshot_is_of_the_current_data() -> None:
    fingerprint, _ = _recorded()
    assert fingerprint == data_fingerprint(), (
        "banned.toml, concepts.toml or review_model.json changed: check the new verdicts, then run "
        "tests/guard_snapshot.py again"
    )


def test_every_text_gets_its_recorded_verdict() -> None:
    fingerprint, records = _recorded()
    if fingerprint != data_fingerprint():
        pytest.skip("the guard's data changed since the snapshot (see the test above)")
    guard = snapshot_guard()
    texts = snapshot_texts()
    assert len(texts) > 1000
    differences = []
    for source, text in texts:
        expected = records.get(source)
        if expected is None:
            continue  # a text added to a set after the snapshot
        actual = verdict_record(guard, source, text)
        if actual != expected:
            differences.append(f"{source}: recorded {expected}, now {actual}")
    hand_written = [source for source, _ in texts if source.startswith(("guard_", "joined:"))]
    assert sum(1 for source in hand_written if source in records) > 0.9 * len(hand_written)
    assert not differences, f"{len(differences)} verdicts changed:\n" + "\n".join(differences[:20])
