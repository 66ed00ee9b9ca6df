"""What the fuzz tests share: their hypothesis settings and the odd text they are built from.

Every fuzz test runs a fixed number of examples from a fixed seed (`derandomize`), so CI sees the
same inputs every time and a failure reproduces. `CURATE_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz_*.py`
runs that many examples per test instead, from a new seed each run, to look further.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def fuzz_settings(examples: int) -> settings:
    """`examples` per suite run from a fixed seed; CURATE_FUZZ_EXAMPLES overrides the count and the seed."""
    wanted = os.environ.get("CURATE_FUZZ_EXAMPLES")
    return settings(
        max_examples=int(wanted) if wanted else examples,
        derandomize=not wanted,
        database=None,  # nothing written into the repository; a failure prints its minimal example
        print_blob=bool(wanted),  # ...and, from a new seed, the @reproduce_failure line that replays it
        deadline=None,  # file writes and decompression vary with the machine's load
        # tmp_path is shared by the examples of one test: each example writes into a folder of its own
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large],
    )


def example_dir(tmp_path: Path) -> Path:
    """A fresh folder under the test's tmp_path for one example."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


# Characters that have broken text readers before: line and paragraph separators other than \n,
# a BOM, NUL, controls, combining marks, right-to-left text, scripts without spaces, astral planes.
ODD_CHARS = "\r\n\t\x0b\x0c\x1c\x85\u2028\u2029\ufeff\x00\x7f\u0301\u200b\u200f\u202e\ufffd"
SNIPPETS = ["Mvua kubwa ilinyesha jana.", "Ọjà ńlá ni ìlú wa.", "हिजो राति ठूलो पानी पर्‍यो।",
            "مرحبا بالعالم", "雨が降った。", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👩‍👩‍👧", "  ", ""]

odd_text = st.one_of(
    st.sampled_from(SNIPPETS),
    st.text(alphabet=st.one_of(st.sampled_from(ODD_CHARS), st.characters(codec="utf-8")), max_size=40),
    st.lists(st.sampled_from(SNIPPETS + list(ODD_CHARS)), max_size=8).map("".join),
)
