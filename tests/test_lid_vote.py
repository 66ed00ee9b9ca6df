"""The LID ensemble's vote and score, on hand-made ballots and weights (no model)."""

import pytest

from filters.lid_vote import UNSEEN, Ballot, confidence, length_class, tally

WEIGHTS = {
    "fasttext": [{"swh": 0.6, "eng": 0.3}] * 5,
    "cld2": [{"swh": 0.9, "zul": 0.8, "eng": 0.4}] * 5,
    "lingua": [{"swh": 0.7}] * 5,
}


def test_length_classes_follow_the_stripped_length():
    assert [length_class(" " * 3 + "a" * n) for n in (1, 9, 10, 24, 25, 44, 45, 399, 400)] == [0, 0, 1, 1, 2, 2, 3, 3, 4]


def test_agreement_adds_up_and_precision_decides_a_dispute():
    agree = tally([Ballot("fasttext", "eng"), Ballot("cld2", "eng")], 2, WEIGHTS)
    assert agree == [("eng", pytest.approx(0.7))]
    # fastText says English, CLD2 Zulu: CLD2 is the more precise voter for its label
    assert tally([Ballot("fasttext", "eng"), Ballot("cld2", "zul")], 2, WEIGHTS)[0][0] == "zul"
    # two voters for Swahili beat a sure one for Zulu
    ballots = [Ballot("fasttext", "swh"), Ballot("cld2", "zul"), Ballot("lingua", "swh")]
    assert tally(ballots, 0, WEIGHTS)[0] == ("swh", pytest.approx(1.3))


def test_unseen_labels_and_ties():
    assert tally([Ballot("cld2", "xho")], 3, WEIGHTS) == [("xho", UNSEEN)]
    # a tie keeps the first-named label: fastText's
    tied = {"fasttext": [{"a": 0.5}] * 5, "cld2": [{"b": 0.5}] * 5}
    assert tally([Ballot("fasttext", "a"), Ballot("cld2", "b")], 0, tied)[0][0] == "a"


def test_the_score_is_the_share_of_voters_backing_the_winner():
    swahili = {"swh": 0.8, "zul": 0.1}
    assert confidence("swh", [Ballot("fasttext", "swh")], swahili) == pytest.approx(0.8)
    agreed = confidence("swh", [Ballot("fasttext", "swh"), Ballot("cld2", "swh")], swahili)
    assert agreed == pytest.approx(0.9)
    disputed = confidence("zul", [Ballot("fasttext", "swh"), Ballot("cld2", "zul")], swahili)
    assert disputed == pytest.approx(0.55)
    three = [Ballot("fasttext", "swh"), Ballot("cld2", "zul"), Ballot("lingua", "swh")]
    assert confidence("swh", three, swahili) == pytest.approx((0.8 + 0 + 1) / 3)
    assert confidence("swh", [], swahili) == 0.0
