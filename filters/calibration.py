"""Calibrated confidence: the probability that a pair looks genuine, learned from the batch itself.

Rank-based confidence (`combination: worst|mean`) says where a record stands among its batch, so
`min_confidence: 0.3` means "the lowest 30%" whatever the data's quality. A calibrated score says
something about the record itself. Without labels, the batch supplies them: every real
(instruction, response) pair is a positive, and two kinds of synthetic negatives are made from the
same records, the corruptions the scores are known to see (see filters/confidence.py):

    swapped    instruction i with the response of another record of the language
    truncated  a response cut at a word boundary between 30% and 70% of its length

Those are scored like the real pairs (the swapped ones need one conditional pass, their
unconditional likelihood is the other record's), and a logistic regression on the standardized
components (PMI, end-of-turn, mean log-probability, sampled consistency) learns, per language and
batch, what separates real pairs from broken ones. A record's calibrated confidence is
P(real | its components) with both classes weighted equally: about 0.5 and above, it looks like a
genuine pair; near 0, like a swapped or cut one. Real records that are themselves corrupted sit
among the positives, so the fit is noisy, but they resemble the negatives and score low, which is
the point. Responses in the wrong language and factual errors are not simulated: they are found
only as far as they move the same components.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

FEATURES = ("pmi", "eot_logprob", "mean_logprob", "consistency")
MIN_RECORDS = 8  # below this many records of a language in a batch, too few to fit: fall back to ranks
MIN_TRUNCATABLE_CHARS = 24
L2 = 1.0  # ridge on the standardized weights: a batch of 20 records still gives a sane fit


@dataclass(frozen=True)
class Negative:
    """A synthetic broken pair: the prompt of record `prompt_of`, with `response`."""

    kind: str  # "swapped" | "truncated"
    prompt_of: int
    response: str
    response_of: int | None = None  # swapped: whose response it is (its unconditional score is known)


def synthetic_negatives(responses: list[str], seed: int = 0) -> list[Negative]:
    """One swapped and (where the response is long enough) one truncated pair per record."""
    n = len(responses)
    rng = random.Random(seed)
    shift = rng.randrange(1, n) if n > 1 else 0
    negatives = []
    for i, response in enumerate(responses):
        if shift:
            j = (i + shift) % n  # a rotation: nobody keeps their own response
            negatives.append(Negative("swapped", i, responses[j], j))
        cut = truncate(response, rng)
        if cut is not None:
            negatives.append(Negative("truncated", i, cut))
    return negatives


def truncate(response: str, rng: random.Random) -> str | None:
    """`response` cut at the last space before a random point in its middle 30-70% (or there, in
    unspaced scripts); None when too short to cut meaningfully."""
    text = response.rstrip()
    if len(text) < MIN_TRUNCATABLE_CHARS:
        return None
    point = int(len(text) * rng.uniform(0.3, 0.7))
    space = text.rfind(" ", 0, point)
    return text[:space if space > len(text) * 0.2 else point].rstrip()


def feature_matrix(rows: list[dict[str, float | None]], names: tuple[str, ...]) -> np.ndarray:
    """Rows of components as a matrix; a missing value becomes its column's mean (no evidence)."""
    matrix = np.array([[math.nan if r.get(name) is None else float(r[name]) for name in names] for r in rows],
                      dtype=float)
    for column in range(matrix.shape[1]):
        values = matrix[:, column]
        present = values[~np.isnan(values)]
        values[np.isnan(values)] = present.mean() if present.size else 0.0
    return matrix


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, iterations: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularized logistic regression by Newton's method, both classes weighted equally.
    Returns (weights, bias) for standardized `x`."""
    n, d = x.shape
    positives = y.sum()
    sample_weight = np.where(y == 1, n / (2 * max(positives, 1)), n / (2 * max(n - positives, 1)))
    design = np.hstack([x, np.ones((n, 1))])
    beta = np.zeros(d + 1)
    ridge = np.diag([l2] * d + [0.0])  # the bias is not shrunk
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (sample_weight * (p - y)) + ridge @ beta
        hessian = (design * (sample_weight * p * (1 - p))[:, None]).T @ design + ridge
        step = np.linalg.solve(hessian + 1e-9 * np.eye(d + 1), gradient)
        beta -= step
        if np.abs(step).max() < 1e-6:
            break
    return beta[:-1], float(beta[-1])


def calibrated_confidence(real: list[dict[str, float | None]], fake: dict[str, list[dict[str, float | None]]],
                          names: tuple[str, ...] = FEATURES) -> tuple[list[float], dict[str, dict[str, float]]]:
    """P(real) for each of `real`: one fit of `real` (positives) against each kind of `fake` pair
    (negatives), and a record's confidence is the lowest of its probabilities: it must look
    genuine against every kind of corruption. One fit against all kinds at once must trade one
    kind off against another on a single line: on the self-instruct bench it reached AUROC 0.81,
    the lowest-of-fits 0.845 (bench/bench_confidence.py).
    Also returns each fit's weights on the standardized components."""
    present = tuple(name for name in names if any(r.get(name) is not None for r in real))
    confidence = np.ones(len(real))
    fitted = {}
    for kind, negatives in fake.items():
        if not negatives:
            continue
        x = feature_matrix(real + negatives, present)
        mean, std = x.mean(axis=0), x.std(axis=0)
        std[std == 0] = 1.0
        z = (x - mean) / std
        y = np.array([1.0] * len(real) + [0.0] * len(negatives))
        weights, bias = fit_logistic(z, y)
        probabilities = 1 / (1 + np.exp(-(z[: len(real)] @ weights + bias)))
        confidence = np.minimum(confidence, probabilities)
        fitted[kind] = dict(zip(present, (float(w) for w in weights), strict=True))
    return [float(p) for p in confidence], fitted
