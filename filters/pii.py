"""Personal data in text, found by validation rather than by shape: e-mail addresses, phone numbers,
IP addresses, payment card numbers, IBANs and URLs that carry credentials or tokens.

Each detector proposes candidates with a loose pattern and keeps only those a real check accepts:

    email        local part @ domain with a letter TLD; Unicode letters and marks in both parts
    phone        `phonenumbers.PhoneNumberMatcher` at leniency VALID, per candidate region
    ip           `ipaddress`: IPv4 and IPv6, global addresses only unless asked otherwise
    credit_card  13-19 digits, Luhn checksum, an issuer prefix (IIN) and a length that issuer uses
    iban         the country's length and format, then the mod-97 checksum (`python-stdnum`)
    url          a URL with `user:password@` or a token-like query parameter (token=, key=, sig=...)

Text in any script: digits of every script (Arabic-Indic, Persian, Devanagari, Bengali, Thai...) and
full-width forms are mapped to ASCII one character for one character before matching, so a match's
span in the mapped text is its span in the original, and the original span is what gets redacted.

Overlapping candidates (a phone number inside a card number, an e-mail inside a URL) are resolved
by kind (url, email, iban, credit_card, ip, phone: the more specific first), then by length.
"""

from __future__ import annotations

import ipaddress
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from urllib.parse import parse_qsl, urlsplit

import phonenumbers
import regex
from stdnum import iban as stdnum_iban

# Most specific first: this order also settles overlaps between kinds.
KINDS = ("url", "email", "iban", "credit_card", "ip", "phone")
DEFAULT_TOKENS = {"url": "<URL>", "email": "<EMAIL>", "iban": "<IBAN>", "credit_card": "<CREDIT_CARD>",
                  "ip": "<IP_ADDRESS>", "phone": "<PHONE>"}


@dataclass(frozen=True)
class Found:
    """One piece of personal data: its kind and its span in the text it was found in."""

    kind: str
    start: int
    end: int


# -- digits of every script ------------------------------------------------------------------------

@cache
def _ascii_table() -> dict[int, str]:
    """Every decimal digit of Unicode -> its ASCII digit; full-width ASCII -> ASCII; the ideographic
    space and Arabic separators -> their ASCII look-alikes. Built once, on first use."""
    table = {cp: str(unicodedata.decimal(chr(cp))) for cp in range(128, sys.maxunicode + 1)
             if unicodedata.category(chr(cp)) == "Nd"}
    table.update({cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)})  # full-width ! .. ~
    table.update({0x3000: " ", 0x066B: ".", 0x066C: ",", 0x060C: ",", 0x2212: "-", 0x2010: "-", 0x2011: "-"})
    return table


def to_ascii_forms(text: str) -> str:
    """`text` with other scripts' digits and full-width forms as ASCII, one character for one, so
    that offsets in the result are offsets in `text`."""
    return text.translate(_ascii_table())


# -- e-mail ---------------------------------------------------------------------------------------

_WORD = r"[\p{L}\p{M}\p{N}]"
_LOCAL_CHAR = r"[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]"
_LABEL = rf"{_WORD}(?:[\p{{L}}\p{{M}}\p{{N}}-]*{_WORD})?"
_EMAIL = regex.compile(
    rf"(?<![\p{{L}}\p{{M}}\p{{N}}.!#$%&'*+/=?^_`{{|}}~-])"
    rf"{_LOCAL_CHAR}+(?:\.{_LOCAL_CHAR}+)*"
    rf"@(?:{_LABEL}\.)+(?:\p{{L}}[\p{{L}}\p{{M}}]+|xn--[a-z0-9-]+)(?![\p{{L}}\p{{M}}\p{{N}}])"
)


def find_emails(text: str) -> list[Found]:
    return [Found("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]


# -- URLs with credentials or tokens ---------------------------------------------------------------

# A URL ends at a space, a quote or bracket, or the sentence punctuation of scripts that do not space
# it off (。、，「」 ।  ، ؛): "...token=abc。" must not redact the full stop with it.
_URL = regex.compile(r"\b(?:https?|ftps?|wss?|sftp)://[^\s<>\"'`)\]。、，；：！？「」『』（）【】।॥،؛]+",
                     regex.IGNORECASE)
SECRET_PARAMS = frozenset({
    "token", "access_token", "refresh_token", "id_token", "auth", "auth_token", "authorization", "api_key",
    "apikey", "api-key", "key", "secret", "client_secret", "password", "passwd", "pwd", "pass", "sig",
    "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature",
    "x-goog-credential", "session", "sessionid", "session_id", "sid", "jwt", "private_token", "otp",
})


def _looks_like_a_secret(value: str) -> bool:
    """A query value worth hiding: long enough to be a token, not a word (`key=value`, `sig=no`)."""
    return len(value) >= 16 or (len(value) >= 6 and any(ch.isdigit() for ch in value))


def url_has_secret(url: str) -> bool:
    """A password in the authority (`user:pass@host`), or a token-like value under a secret name."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.password:
        return True
    pairs = parse_qsl(parts.query, keep_blank_values=False) + parse_qsl(parts.fragment, keep_blank_values=False)
    return any(name.lower() in SECRET_PARAMS and _looks_like_a_secret(value) for name, value in pairs)


def find_secret_urls(text: str) -> list[Found]:
    found = []
    for m in _URL.finditer(text):
        url = m.group().rstrip(".,;:!?")  # sentence punctuation after a URL is not part of it
        if url_has_secret(url):
            found.append(Found("url", m.start(), m.start() + len(url)))
    return found


# -- IBAN and payment cards: checksummed numbers ---------------------------------------------------

_IBAN = regex.compile(r"(?<![\p{L}\p{N}])[A-Za-z]{2}[0-9]{2}(?:[ -]?[A-Za-z0-9]){11,32}")
# Not glued to Latin letters or other digits: "FR76...M026" is an account number, not a card.
_CARD = regex.compile(r"(?<![A-Za-z\p{N}.,/-])[0-9](?:[ -]?[0-9]){12,18}(?![A-Za-z])")

# (first digits, lengths): the issuer prefixes of the card networks (ISO/IEC 7812 IIN ranges).
_CARD_PREFIXES: list[tuple[range, int, tuple[int, ...]]] = [
    (range(4, 5), 1, (13, 16, 19)),                  # Visa
    (range(51, 56), 2, (16,)),                       # Mastercard
    (range(2221, 2721), 4, (16,)),                   # Mastercard 2-series
    (range(34, 35), 2, (15,)), (range(37, 38), 2, (15,)),   # American Express
    (range(6011, 6012), 4, (16, 19)), (range(644, 650), 3, (16, 19)), (range(65, 66), 2, (16, 19)),  # Discover
    (range(3528, 3590), 4, (16, 17, 18, 19)),        # JCB
    (range(300, 306), 3, (14, 16, 19)), (range(36, 37), 2, (14, 16, 19)), (range(38, 40), 2, (16, 19)),  # Diners
    (range(62, 63), 2, (16, 17, 18, 19)),            # UnionPay
    (range(50, 51), 2, (12, 13, 16, 19)), (range(56, 59), 2, (12, 13, 16, 19)),  # Maestro
    (range(2200, 2205), 4, (16, 17, 18, 19)),        # Mir
]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_card_number(digits: str) -> bool:
    """Luhn, and a length the issuer whose prefix it carries uses (an ISBN-13's 978/979 is no issuer)."""
    if not 12 <= len(digits) <= 19 or not luhn_ok(digits):
        return False
    return any(int(digits[:width]) in prefixes and len(digits) in lengths
               for prefixes, width, lengths in _CARD_PREFIXES)


def is_iban(compact: str) -> bool:
    return stdnum_iban.is_valid(compact.upper())


def _longest_valid(text: str, start: int, end: int, valid: Callable[[str], bool], min_chars: int) -> int | None:
    """The end of the longest valid number in text[start:end], cut only where a group of characters
    ends (a space or a hyphen follows, or the candidate ends): a card number followed by its expiry
    date, or an IBAN followed by an upper-case word, is found without them."""
    ends = [i for i in range(end, start, -1) if i == end or text[i] in " -"]
    for cut in ends:
        compact = "".join(ch for ch in text[start:cut] if ch not in " -")
        if len(compact) < min_chars:
            return None
        if valid(compact):
            return cut
    return None


def _checksummed(text: str, pattern: regex.Pattern, kind: str, valid: Callable[[str], bool],
                 min_chars: int) -> list[Found]:
    found = []
    for m in pattern.finditer(text):
        cut = _longest_valid(text, m.start(), m.end(), valid, min_chars)
        if cut is not None:
            found.append(Found(kind, m.start(), cut))
    return found


def find_ibans(text: str) -> list[Found]:
    return _checksummed(text, _IBAN, "iban", is_iban, 15)


def find_cards(text: str) -> list[Found]:
    return _checksummed(text, _CARD, "credit_card", is_card_number, 12)


# -- IP addresses ----------------------------------------------------------------------------------

_IPV4 = regex.compile(r"(?<![\p{L}\p{N}._-])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![\p{L}\p{N}_-]|\.[0-9])")
_IPV6 = regex.compile(r"(?<![\p{L}\p{N}._-])(?<![0-9A-Fa-f]:)(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|(?:[0-9]{1,3}\.){3}"
                      r"[0-9]{1,3})(?![\p{L}\p{N}:_-])")


def is_personal_ip(candidate: str, private_too: bool) -> bool:
    """A valid address that points at someone: global ones, and private ones when asked; never the
    unspecified (`0.0.0.0`, `::`), loopback or multicast addresses, which name no host."""
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    if address.is_unspecified or address.is_loopback or address.is_multicast:
        return False
    return address.is_global or private_too


def find_ips(text: str, private_too: bool = False) -> list[Found]:
    found = []
    for pattern in (_IPV4, _IPV6):
        for m in pattern.finditer(text):
            if is_personal_ip(m.group(), private_too):
                found.append(Found("ip", m.start(), m.end()))
    return found


# -- phone numbers ---------------------------------------------------------------------------------

_DIGIT = regex.compile(r"[0-9]")
# Shorter "valid" numbers are service and short codes (80066 in Saudi Arabia), which name no person,
# and counts like "80066 votes" take their shape; texts with fewer digits are not searched at all.
MIN_PHONE_DIGITS = 7


_IP_SHAPE = regex.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_DOTTED_DATE = regex.compile(r"([0-9]{1,4})[./]([0-9]{1,2})[./]([0-9]{1,4})")
_IDENTIFIER_LABEL = regex.compile(r"(?:ISBN|ISSN|DOI|ISMN)[-: ]*(?:1[03])?[-: ]*$", regex.IGNORECASE)


def _is_a_date(raw: str) -> bool:
    m = _DOTTED_DATE.fullmatch(raw)
    if m is None:
        return False
    first, month, last = (int(g) for g in m.groups())
    day, year = (first, last) if len(m.group(3)) == 4 else (last, first)
    return 1 <= month <= 12 and 1 <= day <= 31 and (len(m.group(1)) == 4 or len(m.group(3)) == 4) and year > 0


def _not_a_phone(text: str, start: int, end: int) -> bool:
    """What a region's number plan accepts but is something else: a short code, a dotted date
    (26.04.1980), an IPv4 address, or the number after an ISBN/ISSN/DOI label (a 10-digit ISBN is a valid Indian mobile)."""
    raw = text[start:end]
    if len(_DIGIT.findall(raw)) < MIN_PHONE_DIGITS:
        return True
    return bool(_IP_SHAPE.fullmatch(raw) or _is_a_date(raw) or _IDENTIFIER_LABEL.search(text[max(0, start - 12):start]))


def find_phones(text: str, regions: Sequence[str]) -> list[Found]:
    """Numbers `phonenumbers` finds valid for one of `regions` (national formats), plus any
    `+<country code>` number (valid in its own country whatever the region)."""
    if len(_DIGIT.findall(text)) < MIN_PHONE_DIGITS:
        return []
    spans: set[tuple[int, int]] = set()
    for region in regions or ("ZZ",):
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            if not _not_a_phone(text, m.start, m.end):
                spans.add((m.start, m.end))
    return [Found("phone", start, end) for start, end in sorted(spans)]


# -- all kinds at once -----------------------------------------------------------------------------

def resolve_overlaps(candidates: Iterable[Found]) -> list[Found]:
    """Keep the most specific kind where candidates overlap (KINDS order), then the longest."""
    rank = {kind: i for i, kind in enumerate(KINDS)}
    chosen: list[Found] = []
    for f in sorted(candidates, key=lambda f: (rank[f.kind], -(f.end - f.start), f.start)):
        if all(f.end <= c.start or f.start >= c.end for c in chosen):
            chosen.append(f)
    return sorted(chosen, key=lambda f: f.start)


def find_pii(text: str, kinds: Iterable[str] = KINDS, regions: Sequence[str] = (),
             private_ips: bool = False) -> list[Found]:
    """Every piece of personal data of `kinds` in `text`, without overlaps, in text order."""
    kinds = set(kinds)
    ascii_text = to_ascii_forms(text)
    candidates: list[Found] = []
    if "url" in kinds:
        candidates += find_secret_urls(ascii_text)
    if "email" in kinds:
        candidates += find_emails(ascii_text)
    if "iban" in kinds:
        candidates += find_ibans(ascii_text)
    if "credit_card" in kinds:
        candidates += find_cards(ascii_text)
    if "ip" in kinds:
        candidates += find_ips(ascii_text, private_ips)
    if "phone" in kinds:
        candidates += find_phones(ascii_text, regions)
    return resolve_overlaps(candidates)


def replace_spans(text: str, found: Sequence[Found], tokens: dict[str, str]) -> str:
    """`text` with each found span replaced by its kind's token."""
    pieces, at = [], 0
    for f in found:
        pieces += [text[at:f.start], tokens[f.kind]]
        at = f.end
    pieces.append(text[at:])
    return "".join(pieces)
