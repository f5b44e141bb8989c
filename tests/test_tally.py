"""How votes add up under each mode, and whose turn it is (fuwu.workflows.tally)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fuwu.workflows.tally import count, turns


@dataclass
class V:
    slot: int
    position: int
    state: str


def _votes(*states: str) -> list[V]:
    return [V(slot, 0, state) for slot, state in enumerate(states)]


@pytest.mark.parametrize(
    ("mode", "ratio", "states", "outcome"),
    [
        ("single", 100, ["pending"], None),
        ("single", 100, ["approved"], "approved"),
        ("any", 100, ["pending", "rejected"], "rejected"),
        ("any", 100, ["approved", "pending"], "approved"),
        ("all", 100, ["approved", "pending"], None),
        ("all", 100, ["approved", "skipped"], "approved"),
        ("all", 100, ["approved", "rejected", "pending"], "rejected"),
        ("sequential", 100, ["approved", "approved", "waiting"], None),
        ("ratio", 60, ["approved", "approved", "pending", "pending", "pending"], None),
        ("ratio", 60, ["approved", "approved", "approved", "rejected", "pending"], "approved"),
        ("ratio", 60, ["rejected", "rejected", "pending", "pending", "pending"], None),
        ("ratio", 60, ["rejected", "rejected", "rejected", "pending", "pending"], "rejected"),
        ("ratio", 50, ["approved", "rejected"], "approved"),
    ],
)
def test_outcome_by_mode(mode, ratio, states, outcome):
    assert count(_votes(*states)).outcome(mode, ratio) == outcome


def test_a_chain_is_approved_only_when_every_vote_in_it_is():
    chain = [V(0, 0, "approved"), V(0, 1, "waiting"), V(1, 0, "transferred"), V(1, 0, "approved")]
    tally = count(chain)
    assert (tally.approved, tally.slots) == (1, 2)
    assert turns(chain, "all") == {(0, 1)}


def test_turns_in_parallel_and_in_sequence():
    votes = _votes("waiting", "waiting", "approved")
    assert turns(votes, "all") == {(0, 0), (1, 0)}
    assert turns(votes, "sequential") == {(0, 0)}
    assert turns(_votes("approved", "waiting"), "sequential") == {(1, 0)}
