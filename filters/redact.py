"""The `pii` step: redact (or drop) records holding personal data, and count what was found.

A `Redactor` applies `filters.pii` to every text a record carries: `text`, the chat turns, and every
string of its other metadata (the input's own fields, generated fields), but not the fields curate
writes itself (source, lang, scores...). The same redactor scrubs what other parts of the run would
otherwise write verbatim (rejects of the steps before `pii`, quarantine excerpts): see
`curation/compile.py`.

Phone numbers in national format are only valid for a region. With `regions: null` the regions
come from the record's language (LID's label; `PHONE_REGIONS` below): Swahili looks for Tanzanian,
Kenyan and Ugandan numbers, Arabic for Egyptian, Saudi, Emirati... A number written with its
`+<country code>` is found in any record. A record of a language not in the table, or without a
language, gets only those international numbers plus `FALLBACK_REGIONS`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

import phonenumbers
from datatrove.data import Document

from curation.errors import RecipeError
from curation.steps import Filter, SideOutputs, record_lang
from filters.pii import DEFAULT_TOKENS, KINDS, find_pii, replace_spans

# ISO 639-3 -> the regions whose national phone formats a text in that language most likely uses.
PHONE_REGIONS: dict[str, tuple[str, ...]] = {
    "eng": ("US", "GB", "IN", "NG", "KE", "ZA", "AU", "CA", "PH"), "swh": ("TZ", "KE", "UG"),
    "swa": ("TZ", "KE", "UG"), "yor": ("NG",), "ibo": ("NG",), "hau": ("NG", "NE"), "amh": ("ET",),
    "som": ("SO", "ET", "KE"), "zul": ("ZA",), "xho": ("ZA",), "kin": ("RW",), "lug": ("UG",),
    "arb": ("EG", "SA", "AE", "MA", "DZ", "IQ", "JO"), "ara": ("EG", "SA", "AE", "MA", "DZ", "IQ", "JO"),
    "arz": ("EG",), "ary": ("MA",), "hin": ("IN",), "npi": ("NP",), "nep": ("NP",), "ben": ("BD", "IN"),
    "urd": ("PK", "IN"), "mar": ("IN",), "guj": ("IN",), "tam": ("IN", "LK"), "tel": ("IN",), "kan": ("IN",),
    "mal": ("IN",), "pan": ("IN", "PK"), "sin": ("LK",), "rus": ("RU", "KZ", "BY"), "ukr": ("UA",),
    "zho": ("CN", "TW", "HK"), "cmn": ("CN", "TW"), "yue": ("HK",), "jpn": ("JP",), "kor": ("KR",),
    "tha": ("TH",), "vie": ("VN",), "ind": ("ID",), "zsm": ("MY",), "msa": ("MY",), "tgl": ("PH",),
    "ell": ("GR", "CY"), "tur": ("TR",), "pes": ("IR",), "fas": ("IR",), "deu": ("DE", "AT", "CH"),
    "fra": ("FR", "BE", "CH", "CA", "SN", "CI"), "spa": ("ES", "MX", "AR", "CO"), "por": ("BR", "PT"),
    "ita": ("IT",), "nld": ("NL", "BE"), "pol": ("PL",),
}
FALLBACK_REGIONS: tuple[str, ...] = ()  # unknown language: `+<country code>` numbers only

# Metadata curate writes itself: never personal, and ids/labels other steps rely on.
OWN_FIELDS = frozenset({"source", "lang", "lang_score", "script", "scores", "dup_cluster", "dup_cluster_size",
                        "target_lang", "task", "drop_stage", "drop_reason", "turn_langs"})

Kind = Literal["url", "email", "iban", "credit_card", "ip", "phone"]


def check_regions(regions: Iterable[str]) -> list[str]:
    """Upper-cased region codes, or a RecipeError naming the first that phonenumbers does not know."""
    checked = []
    for region in regions:
        code = str(region).upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise RecipeError(f"regions: `{region}` is not a region phonenumbers knows (ISO 3166 alpha-2, e.g. TZ, IN)")
        checked.append(code)
    return checked


def check_tokens(tokens: dict[str, str]) -> dict[str, str]:
    """The recipe's tokens over the defaults; a token that is empty or is itself personal data is refused
    (redacting twice must change nothing)."""
    merged = DEFAULT_TOKENS | dict(tokens)
    for kind, token in merged.items():
        if not token.strip():
            raise RecipeError(f"tokens.{kind}: the replacement may not be empty (an empty span hides that "
                              "something was removed)")
        if find_pii(token, regions=("US",)):
            raise RecipeError(f"tokens.{kind}: `{token}` looks like personal data itself")
    return merged


class Redactor:
    """Finds and replaces personal data in a record's texts; plain data, so it pickles to every task."""

    def __init__(self, kinds: Iterable[str] | None = None, tokens: dict[str, str] | None = None,
                 regions: list[str] | None = None, private_ips: bool = False):
        wanted = set(KINDS if kinds is None else kinds)
        self.kinds = tuple(k for k in KINDS if k in wanted)
        self.tokens = check_tokens(tokens or {})
        self.regions = None if regions is None else check_regions(regions)
        self.private_ips = private_ips

    def regions_for(self, lang: str | None) -> tuple[str, ...]:
        if self.regions is not None:
            return tuple(self.regions)
        base = (lang or "").split("_")[0]
        return PHONE_REGIONS.get(base, FALLBACK_REGIONS)

    def redact_text(self, text: str, lang: str | None = None) -> tuple[str, list[tuple[str, str]]]:
        """`text` redacted, and what was found as (kind, original) pairs."""
        found = find_pii(text, self.kinds, self.regions_for(lang), self.private_ips)
        if not found:
            return text, []
        return replace_spans(text, found, self.tokens), [(f.kind, text[f.start:f.end]) for f in found]

    def scrub(self, text: str) -> str:
        """Just the redacted text (quarantine excerpts: no language known, international numbers only
        unless the recipe names regions)."""
        return self.redact_text(text)[0]

    def redact_document(self, doc: Document) -> Counter[str]:
        """Redact `doc` in place; returns how many distinct values of each kind it held (a value in
        both `text` and a chat turn counts once)."""
        lang = doc.metadata.get("lang") or doc.metadata.get("target_lang")
        seen: set[tuple[str, str]] = set()
        doc.text, found = self.redact_text(doc.text, lang)
        seen.update(found)
        for key, value in list(doc.metadata.items()):
            if key not in OWN_FIELDS:
                doc.metadata[key] = self._redact_value(value, lang, seen)
        return Counter(kind for kind, _ in seen)

    def _redact_value(self, value: Any, lang: str | None, seen: set[tuple[str, str]]) -> Any:
        if isinstance(value, str):
            redacted, found = self.redact_text(value, lang)
            seen.update(found)
            return redacted
        if isinstance(value, list):
            return [self._redact_value(v, lang, seen) for v in value]
        if isinstance(value, dict):
            return {k: self._redact_value(v, lang, seen) for k, v in value.items()}
        return value


class PIIFilter(Filter):
    """Redacts personal data in every record (`action: redact`), or drops the records that hold
    some (`action: drop`, reason `contains_pii`; the rejects hold them redacted). Counts what it
    found per kind and language (`pii_<kind>/<lang>`, `pii_records/<lang>`) for stats.json."""

    name = "pii"

    def __init__(self, kinds: list[Kind] | None = None, action: Literal["redact", "drop"] = "redact",
                 tokens: dict[str, str] | None = None, regions: list[str] | None = None,
                 private_ips: bool = False, outputs: SideOutputs | None = None):
        super().__init__(outputs)
        self.redactor = Redactor(kinds, tokens, regions, private_ips)
        self.action = action

    def keep(self, doc: Document) -> bool | tuple[bool, str]:
        found = self.redactor.redact_document(doc)
        if not found:
            return True
        lang = record_lang(doc)
        for kind, count in found.items():
            self.stat_update(f"pii_{kind}/{lang}", value=count)
        self.stat_update(f"pii_records/{lang}")
        return (False, "contains_pii") if self.action == "drop" else True
