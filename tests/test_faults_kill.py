"""The fault matrix, kills (issue 15): `curate run` SIGKILLed at a point inside each stage, then run again,
ends with exactly what an uninterrupted run published, and every LLM request reached the model once.

A case's point is drawn (seeded, `tests.fault_matrix.draw_point`) among the named points
(`curation.faults`) the reference run reached in that stage: the n-th record a step decided about,
the n-th file written whole but not yet renamed into place, the n-th LSH band, language selected,
LLM batch stored or shard published. The kill comes from the process itself (SIGKILL: no cleanup
runs), the rerun is a plain `curate run` of the same recipe.
"""

from __future__ import annotations

import pytest

from tests.conftest import run_cli
from tests.fault_matrix import assert_same_output, draw_point, killed_at, matrix_recipe, requests_sent

# The points inside each stage, as `curation.faults` names them (fnmatch patterns).
STAGE_POINTS = {
    "curate": ["record/read", "record/lid", "record/quality", "write/shingles/*", "write/[0-9][0-9][0-9]/*",
               "write/fingerprints/*"],
    "buckets": ["dedup/band", "write/candidates/*"],
    "verify": ["write/edges/*"],
    # links, stars-1-large, stars-1-small, labels: the components' file shuffle (filters/dedup_clusters.py)
    "components": ["write/links/*", "write/loners/*", "dedup/stars", "write/stars-*/*", "write/guesses/*",
                   "write/residual/*"],
    "clusters": ["dedup/guesses", "write/clusters/*"],
    "filter": ["record/dedup", "write/0000[0-9]/*"],
    "select": ["select/language", "write/decisions/*"],
    "publish": ["record/select", "write/publish/*"],
    "generate": ["llm/stored", "record/generate", "record/verify", "write/generate/*"],
    # finalize: mid-publish of data/, or with one of its three files written but not yet in place (one
    # case, its point drawn among all four like any stage's: CURATE_FAULT_SEED draws the others)
    "finalize": ["publish/shard", "write/*/stats.json", "write/*/README.md", "write/*/report.html"],
}


@pytest.mark.slow  # per case a `curate run` child killed mid-stage (~5 s) and the rerun (~4 s)
@pytest.mark.parametrize("case", list(STAGE_POINTS))
def test_a_run_killed_inside_a_stage_resumes_to_the_uninterrupted_output(tmp_path, matrix_reference, case):
    output, trace = matrix_reference
    point = draw_point(trace, STAGE_POINTS[case], case)
    recipe = matrix_recipe(tmp_path, "out")
    killed_at(recipe, point)
    assert not (tmp_path / "out" / "stats.json").exists(), f"{point}: a killed first run published stats"

    rerun = run_cli("run", recipe)
    assert rerun.exit_code == 0, f"{point}: {rerun.output}"
    assert_same_output(tmp_path / "out", output, point)
    # every request the uninterrupted run sent, each sent once over the killed run and its rerun
    assert requests_sent(tmp_path / "out") == requests_sent(output), f"{point}: LLM requests differ"
