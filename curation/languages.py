"""Language codes: the lid.176 label set, canonical ISO 639-3 codes, and user-code normalization.

Internally a language is its ISO 639-3 code, chosen to match FLORES-200 where FLORES has the
language (`swh` for Swahili, `zsm` for Malay, `arb` for Arabic, `pes` for Persian, `npi` for
Nepali, `lvs` for Latvian, `khk` for Mongolian, `pbt` for Pashto, `als` for Albanian...), so
benchmarks and users share one vocabulary. A language in record metadata carries the script it
was written in: `<iso639_3>_<Script>`, e.g. `swh_Latn`, `zho_Hani`, `srp_Cyrl` or `srp_Latn`.

`normalize_lang` accepts what users write: ISO 639-1 (`sw`), ISO 639-3 individual or macro codes
(`swh`, `swa`), ISO 639-2/B codes (`ger`), FLORES codes (`swh_Latn`), BCP-47 tags (`sw-KE`),
lid.176 labels (`__label__sw`) and English names (`Swahili`).

One code means two things: `als` is Tosk Albanian in ISO 639-3 (and FLORES) but Alemannic
German as a lid.176 label. A bare `als` is the ISO code; only `__label__als` is Alemannic (`gsw`).
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass

LID_LABEL_PREFIX = "__label__"


@dataclass(frozen=True)
class Language:
    code: str  # canonical ISO 639-3
    script: str  # the usual ISO 15924 script
    name: str  # English name
    lid_label: str | None = None  # the lid.176 label, when lid.176 knows the language
    other_scripts: tuple[str, ...] = ()  # other scripts the language is commonly written in

    @property
    def scripts(self) -> tuple[str, ...]:
        return (self.script, *self.other_scripts)


# lid.176 label -> canonical ISO 639-3, usual script, English name. All 176 labels.
_LID176 = (
    ("en", "eng", "Latn", "English"), ("ru", "rus", "Cyrl", "Russian"),
    ("de", "deu", "Latn", "German"), ("fr", "fra", "Latn", "French"),
    ("it", "ita", "Latn", "Italian"), ("ja", "jpn", "Jpan", "Japanese"),
    ("es", "spa", "Latn", "Spanish"), ("ceb", "ceb", "Latn", "Cebuano"),
    ("tr", "tur", "Latn", "Turkish"), ("pt", "por", "Latn", "Portuguese"),
    ("uk", "ukr", "Cyrl", "Ukrainian"), ("eo", "epo", "Latn", "Esperanto"),
    ("pl", "pol", "Latn", "Polish"), ("sv", "swe", "Latn", "Swedish"),
    ("nl", "nld", "Latn", "Dutch"), ("he", "heb", "Hebr", "Hebrew"),
    ("zh", "zho", "Hani", "Chinese"), ("hu", "hun", "Latn", "Hungarian"),
    ("ar", "arb", "Arab", "Arabic"), ("ca", "cat", "Latn", "Catalan"),
    ("fi", "fin", "Latn", "Finnish"), ("cs", "ces", "Latn", "Czech"),
    ("fa", "pes", "Arab", "Persian"), ("sr", "srp", "Cyrl", "Serbian"),
    ("el", "ell", "Grek", "Greek"), ("vi", "vie", "Latn", "Vietnamese"),
    ("bg", "bul", "Cyrl", "Bulgarian"), ("ko", "kor", "Hang", "Korean"),
    ("no", "nob", "Latn", "Norwegian Bokmal"), ("mk", "mkd", "Cyrl", "Macedonian"),
    ("ro", "ron", "Latn", "Romanian"), ("id", "ind", "Latn", "Indonesian"),
    ("th", "tha", "Thai", "Thai"), ("hy", "hye", "Armn", "Armenian"),
    ("da", "dan", "Latn", "Danish"), ("ta", "tam", "Taml", "Tamil"),
    ("hi", "hin", "Deva", "Hindi"), ("hr", "hrv", "Latn", "Croatian"),
    ("sh", "hbs", "Latn", "Serbo-Croatian"), ("be", "bel", "Cyrl", "Belarusian"),
    ("ka", "kat", "Geor", "Georgian"), ("te", "tel", "Telu", "Telugu"),
    ("kk", "kaz", "Cyrl", "Kazakh"), ("war", "war", "Latn", "Waray"),
    ("lt", "lit", "Latn", "Lithuanian"), ("gl", "glg", "Latn", "Galician"),
    ("sk", "slk", "Latn", "Slovak"), ("bn", "ben", "Beng", "Bengali"),
    ("eu", "eus", "Latn", "Basque"), ("sl", "slv", "Latn", "Slovenian"),
    ("kn", "kan", "Knda", "Kannada"), ("ml", "mal", "Mlym", "Malayalam"),
    ("mr", "mar", "Deva", "Marathi"), ("et", "est", "Latn", "Estonian"),
    ("az", "azj", "Latn", "Azerbaijani"), ("ms", "zsm", "Latn", "Malay"),
    ("sq", "als", "Latn", "Albanian"), ("la", "lat", "Latn", "Latin"),
    ("bs", "bos", "Latn", "Bosnian"), ("nn", "nno", "Latn", "Norwegian Nynorsk"),
    ("ur", "urd", "Arab", "Urdu"), ("lv", "lvs", "Latn", "Latvian"),
    ("my", "mya", "Mymr", "Burmese"), ("tt", "tat", "Cyrl", "Tatar"),
    ("af", "afr", "Latn", "Afrikaans"), ("oc", "oci", "Latn", "Occitan"),
    ("nds", "nds", "Latn", "Low German"), ("ky", "kir", "Cyrl", "Kyrgyz"),
    ("ast", "ast", "Latn", "Asturian"), ("tl", "tgl", "Latn", "Tagalog"),
    ("is", "isl", "Latn", "Icelandic"), ("ia", "ina", "Latn", "Interlingua"),
    ("si", "sin", "Sinh", "Sinhala"), ("gu", "guj", "Gujr", "Gujarati"),
    ("km", "khm", "Khmr", "Khmer"), ("br", "bre", "Latn", "Breton"),
    ("ba", "bak", "Cyrl", "Bashkir"), ("uz", "uzn", "Latn", "Uzbek"),
    ("bo", "bod", "Tibt", "Tibetan"), ("pa", "pan", "Guru", "Punjabi"),
    ("vo", "vol", "Latn", "Volapuk"), ("als", "gsw", "Latn", "Alemannic"),
    ("ne", "npi", "Deva", "Nepali"), ("cy", "cym", "Latn", "Welsh"),
    ("jbo", "jbo", "Latn", "Lojban"), ("fy", "fry", "Latn", "Western Frisian"),
    ("mn", "khk", "Cyrl", "Mongolian"), ("lb", "ltz", "Latn", "Luxembourgish"),
    ("ce", "che", "Cyrl", "Chechen"), ("ug", "uig", "Arab", "Uyghur"),
    ("tg", "tgk", "Cyrl", "Tajik"), ("sco", "sco", "Latn", "Scots"),
    ("sa", "san", "Deva", "Sanskrit"), ("cv", "chv", "Cyrl", "Chuvash"),
    ("jv", "jav", "Latn", "Javanese"), ("min", "min", "Latn", "Minangkabau"),
    ("io", "ido", "Latn", "Ido"), ("or", "ory", "Orya", "Odia"),
    ("as", "asm", "Beng", "Assamese"), ("new", "new", "Deva", "Newari"),
    ("ga", "gle", "Latn", "Irish"), ("mg", "plt", "Latn", "Malagasy"),
    ("an", "arg", "Latn", "Aragonese"), ("ckb", "ckb", "Arab", "Central Kurdish"),
    ("sw", "swh", "Latn", "Swahili"), ("bar", "bar", "Latn", "Bavarian"),
    ("lmo", "lmo", "Latn", "Lombard"), ("yi", "ydd", "Hebr", "Yiddish"),
    ("arz", "arz", "Arab", "Egyptian Arabic"), ("mhr", "mhr", "Cyrl", "Eastern Mari"),
    ("azb", "azb", "Arab", "South Azerbaijani"), ("sah", "sah", "Cyrl", "Yakut"),
    ("pnb", "pnb", "Arab", "Western Punjabi"), ("su", "sun", "Latn", "Sundanese"),
    ("bpy", "bpy", "Beng", "Bishnupriya"), ("pms", "pms", "Latn", "Piedmontese"),
    ("ilo", "ilo", "Latn", "Ilocano"), ("wuu", "wuu", "Hani", "Wu Chinese"),
    ("ku", "kmr", "Latn", "Kurdish (Kurmanji)"), ("ps", "pbt", "Arab", "Pashto"),
    ("ie", "ile", "Latn", "Interlingue"), ("xmf", "xmf", "Geor", "Mingrelian"),
    ("yue", "yue", "Hani", "Cantonese"), ("gom", "gom", "Deva", "Goan Konkani"),
    ("li", "lim", "Latn", "Limburgish"), ("mwl", "mwl", "Latn", "Mirandese"),
    ("kw", "cor", "Latn", "Cornish"), ("sd", "snd", "Arab", "Sindhi"),
    ("hsb", "hsb", "Latn", "Upper Sorbian"), ("scn", "scn", "Latn", "Sicilian"),
    ("gd", "gla", "Latn", "Scottish Gaelic"), ("pam", "pam", "Latn", "Kapampangan"),
    ("bh", "bho", "Deva", "Bhojpuri"), ("mai", "mai", "Deva", "Maithili"),
    ("vec", "vec", "Latn", "Venetian"), ("mt", "mlt", "Latn", "Maltese"),
    ("dv", "div", "Thaa", "Dhivehi"), ("wa", "wln", "Latn", "Walloon"),
    ("mzn", "mzn", "Arab", "Mazanderani"), ("am", "amh", "Ethi", "Amharic"),
    ("qu", "quy", "Latn", "Quechua"), ("eml", "egl", "Latn", "Emilian-Romagnol"),
    ("cbk", "cbk", "Latn", "Chavacano"), ("tk", "tuk", "Latn", "Turkmen"),
    ("rm", "roh", "Latn", "Romansh"), ("os", "oss", "Cyrl", "Ossetian"),
    ("vls", "vls", "Latn", "West Flemish"), ("yo", "yor", "Latn", "Yoruba"),
    ("lo", "lao", "Laoo", "Lao"), ("lez", "lez", "Cyrl", "Lezgian"),
    ("so", "som", "Latn", "Somali"), ("myv", "myv", "Cyrl", "Erzya"),
    ("diq", "diq", "Latn", "Zazaki"), ("mrj", "mrj", "Cyrl", "Western Mari"),
    ("dsb", "dsb", "Latn", "Lower Sorbian"), ("frr", "frr", "Latn", "North Frisian"),
    ("ht", "hat", "Latn", "Haitian Creole"), ("gn", "grn", "Latn", "Guarani"),
    ("bxr", "bxr", "Cyrl", "Buryat"), ("kv", "kpv", "Cyrl", "Komi"),
    ("sc", "srd", "Latn", "Sardinian"), ("nah", "nah", "Latn", "Nahuatl"),
    ("krc", "krc", "Cyrl", "Karachay-Balkar"), ("bcl", "bcl", "Latn", "Central Bikol"),
    ("nap", "nap", "Latn", "Neapolitan"), ("gv", "glv", "Latn", "Manx"),
    ("av", "ava", "Cyrl", "Avar"), ("rue", "rue", "Cyrl", "Rusyn"),
    ("xal", "xal", "Cyrl", "Kalmyk"), ("pfl", "pfl", "Latn", "Palatine German"),
    ("dty", "dty", "Deva", "Doteli"), ("hif", "hif", "Latn", "Fiji Hindi"),
    ("co", "cos", "Latn", "Corsican"), ("lrc", "lrc", "Arab", "Northern Luri"),
    ("vep", "vep", "Latn", "Veps"), ("tyv", "tyv", "Cyrl", "Tuvan"),
)

# Scripts a lid.176 language is also commonly written in, besides its usual one. Text in one of
# these is still plausible for the language when LID checks script consistency.
_OTHER_SCRIPTS = {
    "srp": ("Latn",), "hbs": ("Cyrl",), "jpn": ("Hani",), "uzn": ("Cyrl",), "kaz": ("Latn",),
    "tat": ("Latn",), "uig": ("Latn", "Cyrl"), "snd": ("Deva",), "azj": ("Cyrl",),
    "khk": ("Mong",), "zsm": ("Arab",), "tuk": ("Cyrl",), "kir": ("Latn",), "kmr": ("Cyrl",),
    "pan": ("Arab",), "bos": ("Cyrl",), "zho": ("Bopo",),
}

# Low-resource languages in FLORES-200 that lid.176 cannot identify. They normalize (a recipe may
# name them with a larger LID model), but `LanguageID` with lid.176 refuses to keep them.
_NOT_IN_LID176 = (
    ("ak", "aka", "Latn", "Akan"), ("ay", "ayr", "Latn", "Aymara"), ("bm", "bam", "Latn", "Bambara"),
    ("dz", "dzo", "Tibt", "Dzongkha"), ("ee", "ewe", "Latn", "Ewe"), ("fo", "fao", "Latn", "Faroese"),
    ("fj", "fij", "Latn", "Fijian"), ("ff", "fuv", "Latn", "Fulfulde"), ("ha", "hau", "Latn", "Hausa"),
    ("ig", "ibo", "Latn", "Igbo"), ("ks", "kas", "Arab", "Kashmiri"), ("ki", "kik", "Latn", "Kikuyu"),
    ("rw", "kin", "Latn", "Kinyarwanda"), ("kg", "kon", "Latn", "Kikongo"),
    ("ln", "lin", "Latn", "Lingala"), ("lg", "lug", "Latn", "Luganda"), ("mi", "mri", "Latn", "Maori"),
    ("ny", "nya", "Latn", "Chichewa"), ("om", "gaz", "Latn", "Oromo"), ("rn", "run", "Latn", "Kirundi"),
    ("sg", "sag", "Latn", "Sango"), ("sm", "smo", "Latn", "Samoan"), ("sn", "sna", "Latn", "Shona"),
    ("st", "sot", "Latn", "Sesotho"), ("ss", "ssw", "Latn", "Swati"), ("ti", "tir", "Ethi", "Tigrinya"),
    ("tn", "tsn", "Latn", "Tswana"), ("ts", "tso", "Latn", "Tsonga"), ("tw", "twi", "Latn", "Twi"),
    ("wo", "wol", "Latn", "Wolof"), ("xh", "xho", "Latn", "Xhosa"), ("zu", "zul", "Latn", "Zulu"),
    (None, "ace", "Latn", "Acehnese"), (None, "awa", "Deva", "Awadhi"), (None, "ban", "Latn", "Balinese"),
    (None, "bem", "Latn", "Bemba"), (None, "bjn", "Latn", "Banjar"), (None, "bug", "Latn", "Buginese"),
    (None, "cjk", "Latn", "Chokwe"), (None, "crh", "Latn", "Crimean Tatar"), (None, "dik", "Latn", "Dinka"),
    (None, "dyu", "Latn", "Dyula"), (None, "fon", "Latn", "Fon"), (None, "fur", "Latn", "Friulian"),
    (None, "hne", "Deva", "Chhattisgarhi"), (None, "kab", "Latn", "Kabyle"), (None, "kac", "Latn", "Jingpho"),
    (None, "kam", "Latn", "Kamba"), (None, "kbp", "Latn", "Kabiye"), (None, "kea", "Latn", "Kabuverdianu"),
    (None, "kmb", "Latn", "Kimbundu"), (None, "knc", "Latn", "Kanuri"), (None, "lij", "Latn", "Ligurian"),
    (None, "ltg", "Latn", "Latgalian"), (None, "lua", "Latn", "Luba-Kasai"), (None, "luo", "Latn", "Luo"),
    (None, "lus", "Latn", "Mizo"), (None, "mag", "Deva", "Magahi"), (None, "mni", "Beng", "Meitei"),
    (None, "mos", "Latn", "Mossi"), (None, "nqo", "Nkoo", "N'Ko"), (None, "nso", "Latn", "Northern Sotho"),
    (None, "nus", "Latn", "Nuer"), (None, "pag", "Latn", "Pangasinan"), (None, "pap", "Latn", "Papiamento"),
    (None, "prs", "Arab", "Dari"), (None, "sat", "Olck", "Santali"), (None, "shn", "Mymr", "Shan"),
    (None, "szl", "Latn", "Silesian"), (None, "taq", "Latn", "Tamasheq"), (None, "tpi", "Latn", "Tok Pisin"),
    (None, "tum", "Latn", "Tumbuka"), (None, "tzm", "Tfng", "Central Atlas Tamazight"),
    (None, "umb", "Latn", "Umbundu"),
)

# Codes that mean a canonical language without being its canonical code: ISO 639-3 macrolanguages,
# ISO 639-2/B codes, retired or sibling codes, and langdetect's labels.
_ALIASES = {
    "swa": "swh", "msa": "zsm", "may": "zsm", "ara": "arb", "fas": "pes", "per": "pes", "nep": "npi",
    "ekk": "est", "lav": "lvs", "mon": "khk", "pus": "pbt", "uzb": "uzn", "aze": "azj", "sqi": "als",
    "alb": "als", "nor": "nob", "nb": "nob", "kur": "kmr", "mlg": "plt", "yid": "ydd", "que": "quy",
    "kom": "kpv", "fil": "tgl", "ori": "ory", "zh-cn": "zho", "zh-tw": "zho", "cmn": "zho",
    "chi": "zho", "ger": "deu", "fre": "fra", "dut": "nld", "gre": "ell", "arm": "hye", "geo": "kat",
    "baq": "eus", "ice": "isl", "mac": "mkd", "rum": "ron", "slo": "slk", "wel": "cym", "tib": "bod",
    "bur": "mya", "cze": "ces", "eml": "egl", "bih": "bho", "gug": "grn",
    "orm": "gaz", "ful": "fuv", "kau": "knc", "aym": "ayr", "pnj": "pan",
}

# Languages that lid.176 mixes up with each other: when the top two candidates of a text fall in
# one group with close scores, LID counts the pair instead of pretending it was sure. Groups may
# overlap (Spanish is close to both Galician and Catalan).
CONFUSABLE_GROUPS: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "zsm ind min jav",
        "nob nno dan swe",
        "glg spa por ast",
        "cat spa oci",
        "hrv srp bos hbs slv",
        "hin mar npi bho mai san new",
        "ces slk",
        "bul mkd",
        "rus ukr bel rue",
        "arb arz",
        "pes mzn",
        "afr nld",
        "deu bar gsw nds ltz pfl",
        "ita vec scn nap lmo pms",
        "tur azj",
        "kaz kir",
        "ceb war tgl",
    )
)


@functools.cache
def _languages() -> dict[str, Language]:
    """Canonical code -> Language, for lid.176's languages and the extra FLORES ones."""
    table = {
        code: Language(code, script, name, label, _OTHER_SCRIPTS.get(code, ()))
        for label, code, script, name in _LID176
    }
    for _, code, script, name in _NOT_IN_LID176:
        table.setdefault(code, Language(code, script, name))
    return table


@functools.cache
def _lookup() -> dict[str, str]:
    """Every accepted spelling (lowercase) -> canonical code. Later entries never overwrite."""
    lookup: dict[str, str] = {}
    for code in _languages():
        lookup[code] = code
    for alias, code in _ALIASES.items():
        lookup.setdefault(alias, code)
    for label, code, _, _ in (*_LID176, *_NOT_IN_LID176):
        if label:
            lookup.setdefault(label, code)
    for code, lang in _languages().items():
        lookup.setdefault(lang.name.lower(), code)
    return lookup


@functools.cache
def lid176_label_to_code() -> dict[str, str]:
    """lid.176 label without prefix (`sw`) -> canonical ISO 639-3 code (`swh`)."""
    return {label: code for label, code, _, _ in _LID176}


def normalize_lang(code: str) -> str:
    """The canonical ISO 639-3 code for any code a user or a model writes.

    >>> normalize_lang("sw"), normalize_lang("swa"), normalize_lang("swh_Latn"), normalize_lang("__label__sw")
    ('swh', 'swh', 'swh', 'swh')

    Raises ValueError, naming the closest known codes, for a code it does not know.
    """
    text = code.strip()
    if text.startswith(LID_LABEL_PREFIX):
        label = text.removeprefix(LID_LABEL_PREFIX)
        if label in lid176_label_to_code():
            return lid176_label_to_code()[label]
        raise ValueError(f"unknown lid.176 label {code!r}")
    lookup = _lookup()
    key = text.lower()
    if key in lookup:
        return lookup[key]
    base = key.replace("-", "_").split("_")[0]  # swh_Latn, sw-KE, zh-Hans
    if base in lookup:
        return lookup[base]
    raise ValueError(_unknown_code_message(code, lookup))


def _unknown_code_message(code: str, lookup: dict[str, str]) -> str:
    close = difflib.get_close_matches(code.lower(), list(lookup), n=4, cutoff=0.6)
    hint = ", ".join(f"{c!r} ({language(lookup[c]).name}, {lookup[c]})" for c in close)
    message = f"unknown language code {code!r}: use ISO 639-1 (sw), ISO 639-3 (swh) or FLORES (swh_Latn)"
    return f"{message}; closest: {hint}" if hint else message


def language(code: str) -> Language:
    """The Language for any accepted code."""
    return _languages()[normalize_lang(code)]


def is_lid176_language(code: str) -> bool:
    """Whether lid.176 can output this language at all."""
    return language(code).lid_label is not None


def lang_tag(code: str, script: str) -> str:
    """`swh` + `Latn` -> `swh_Latn`: how a language is written in record metadata."""
    return f"{code}_{script}"


def split_tag(tag: str) -> tuple[str, str]:
    """`swh_Latn` -> (`swh`, `Latn`)."""
    code, _, script = tag.partition("_")
    return code, script


def are_confusable(a: str, b: str) -> bool:
    """Whether two canonical codes belong to one confusable group."""
    return a != b and any(a in group and b in group for group in CONFUSABLE_GROUPS)


def confusable_with(code: str) -> frozenset[str]:
    """The languages in `code`'s confusable groups (itself included when it has any)."""
    return frozenset(c for group in CONFUSABLE_GROUPS if code in group for c in group)
