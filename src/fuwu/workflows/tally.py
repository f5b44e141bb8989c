"""How approvers' votes add up: whose turn it is, and whether the approval is decided.

Pure functions over (slot, position, state) so the rules can be read and tested on their own.
A slot is one approver the workflow found, with the people added before or after them (加签)
as a chain; a handed-over vote (转交) leaves the chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Literal, Protocol

Outcome = Literal["approved", "rejected"]
DONE = frozenset({"approved", "skipped"})


class Counted(Protocol):
    @property
    def slot(self) -> int: ...
    @property
    def position(self) -> int: ...
    @property
    def state(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Tally:
    approved: int  # slots approved
    rejected: int  # slots rejected
    slots: int

    def outcome(self, mode: str, ratio: int) -> Outcome | None:
        """The decision the votes make under `mode` (None: still waiting)."""
        if mode in ("single", "any"):
            if self.approved:
                return "approved"
            return "rejected" if self.rejected else None
        if mode == "ratio":
            if self.approved * 100 >= ratio * self.slots:
                return "approved"
            return "rejected" if (self.slots - self.rejected) * 100 < ratio * self.slots else None
        # all, sequential: everyone approves; one rejection rejects
        if self.rejected:
            return "rejected"
        return "approved" if self.approved == self.slots else None


def chains(votes: Iterable[Counted]) -> list[list[Counted]]:
    """The live votes by slot, each chain in order (handed-over votes left out)."""
    live = sorted(
        (v for v in votes if v.state != "transferred"), key=lambda v: (v.slot, v.position)
    )
    return [list(chain) for _, chain in groupby(live, key=lambda v: v.slot)]


def _slot_state(chain: Sequence[Counted]) -> str:
    if any(v.state == "rejected" for v in chain):
        return "rejected"
    return "approved" if all(v.state in DONE for v in chain) else "open"


def count(votes: Iterable[Counted]) -> Tally:
    states = [_slot_state(chain) for chain in chains(votes)]
    return Tally(states.count("approved"), states.count("rejected"), len(states))


def turns(votes: Iterable[Counted], mode: str) -> set[tuple[int, int]]:
    """The (slot, position) of each vote whose turn it is: the first undecided vote of every
    open chain; in sequential mode, of the first open chain only."""
    found: set[tuple[int, int]] = set()
    for chain in chains(votes):
        state = _slot_state(chain)
        if state != "open":
            continue
        first = next(v for v in chain if v.state not in DONE)
        found.add((first.slot, first.position))
        if mode == "sequential":
            break
    return found
