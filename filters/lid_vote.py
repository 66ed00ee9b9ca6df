"""How curate's LID ensemble decides: a vote weighted by each detector's measured precision.

Three voters give one label each (a ballot):

    fasttext  the fastText model (lid.176), made script-consistent and orthography-hinted
    cld2      CLD2 in best-effort mode
    lingua    lingua, only on texts under LINGUA_BELOW characters, asked to choose among the
              labels the two fast voters name (fastText's best three, CLD2's) and their
              confusable neighbours

A ballot for label L from voter V weighs V's precision on L in the text's length class: of the
TUNE-half FLORES texts of that length V labelled L, the share that were L, smoothed as
(right + 1) / (said + 2); a label V never said on TUNE weighs UNSEEN. The label with the most
weight wins (agreement simply adds up; on a tie fastText's label wins). The tables live in
`filters.lid_reliability`, written by `bench/calibrate_lid.py`, which says how they were made.

Why this rule: bench/bench_lid_detectors.py simulated cascades (fastText first, lingua when
unsure/short/confusable), add-ons (CLD3 or CLD2 vouching for languages lid.176 lacks) and votes
on the TUNE half; the precision vote was best on every length bucket of the REPORT half (README).

The score is the share of the voters that back the winner W, fastText's ballot counted as its
(script-consistent) probability for W:

    score = (p_fasttext(W) + number of other voters naming W) / number of voters

An English sentence all agree on scores ~1.0; a word fastText gives W 0.3 and CLD2 names W scores
0.65; a label CLD2 alone names against fastText scores under 0.5. The precision weights choose the
label but stay out of the score: they carry FLORES's uniform mix of 144 languages (English is the
label lid.176 gives many languages it lacks, so its precision there is low), which real data does
not share. Per-language minimum scores are calibrated on this score
(`filters.lid_reliability.MIN_SCORES`).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Text-length classes (characters of the stripped text): <10, 10-24, 25-44, 45-399, >=400.
LENGTH_EDGES = (10, 25, 45, 400)
# lingua votes below this many characters: above it the fast voters are right as often, at a
# fraction of the cost (measured: lingua under 40, 60, 100 or 200 characters did not do better).
LINGUA_BELOW = 25
# The weight of a label a voter never gave on the TUNE half.
UNSEEN = 0.5
VOTERS = ("fasttext", "cld2", "lingua")

Reliability = Mapping[str, Sequence[Mapping[str, float]]]  # voter -> length class -> code -> precision


@dataclass(frozen=True)
class Ballot:
    voter: str
    code: str


def length_class(text: str) -> int:
    """The index of the text's length class (see LENGTH_EDGES)."""
    return bisect.bisect_right(LENGTH_EDGES, len(text.strip()))


def ballot_weight(reliability: Reliability, ballot: Ballot, cls: int) -> float:
    classes = reliability.get(ballot.voter)
    return classes[cls].get(ballot.code, UNSEEN) if classes else UNSEEN


def tally(ballots: Sequence[Ballot], cls: int, reliability: Reliability) -> list[tuple[str, float]]:
    """Every label named, with its total weight, the winner first (first-named wins a tie)."""
    totals: dict[str, float] = {}
    for ballot in ballots:
        totals[ballot.code] = totals.get(ballot.code, 0.0) + ballot_weight(reliability, ballot, cls)
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)  # stable: ties keep ballot order


def confidence(winner: str, ballots: Sequence[Ballot], model_probability: Mapping[str, float]) -> float:
    """The ensemble's score for `winner` (see the module docstring)."""
    if not ballots:
        return 0.0
    backing = (model_probability.get(winner, 0.0) if ballot.voter == "fasttext" else float(ballot.code == winner)
               for ballot in ballots)
    return sum(backing) / len(ballots)
