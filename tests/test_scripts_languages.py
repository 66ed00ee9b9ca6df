"""Script detection and language-code normalization (no model needed)."""

import pytest

from curation.languages import (
    are_confusable,
    is_lid176_language,
    lang_tag,
    language,
    lid176_label_to_code,
    normalize_lang,
    split_tag,
)
from filters.scripts import dominant_script, is_unspaced_script
from filters.shingles import tokenize_codepoints
from filters.tokenize import words


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("Habari ya asubuhi, rafiki yangu", "Latn"),
        ("Ọjọ́ dára, ẹ kú àárọ̀", "Latn"),
        ("Привет, как дела?", "Cyrl"),
        ("مرحبا بكم في المدينة", "Arab"),
        ("नमस्ते, आप कैसे हैं?", "Deva"),
        ("ሰላም ለዓለም", "Ethi"),
        ("გამარჯობა", "Geor"),
        ("Καλημέρα σας", "Grek"),
        ("שלום עולם", "Hebr"),
        ("我们今天去市场", "Hani"),
        ("今日は市場に行きます", "Jpan"),
        ("안녕하세요 여러분", "Hang"),
        ("สวัสดีครับ", "Thai"),
        ("ⵜⴰⵎⴰⵣⵉⵖⵜ", "Tfng"),
        ("ᱥᱟᱱᱛᱟᱲᱤ", "Olck"),
    ],
)
def test_dominant_script(text, script):
    found, share = dominant_script(text)
    assert found == script
    assert share == pytest.approx(1.0)


def test_digits_and_punctuation_are_not_letters():
    assert dominant_script("1234 !? ١٢٣ ।") == ("Zyyy", 0.0)
    assert dominant_script("") == ("Zyyy", 0.0)


def test_script_share_is_the_fraction_of_letters():
    script, share = dominant_script("Привет мир hello")  # 9 Cyrillic letters, 5 Latin
    assert script == "Cyrl"
    assert share == pytest.approx(9 / 14)


def test_unspaced_scripts():
    assert is_unspaced_script("Hani") and is_unspaced_script("Thai") and is_unspaced_script("Jpan")
    assert not is_unspaced_script("Latn") and not is_unspaced_script("Deva")


def test_all_176_lid_labels_have_a_canonical_code():
    table = lid176_label_to_code()
    assert len(table) == 176
    assert len(set(table.values())) == 176
    assert all(len(code) == 3 for code in table.values())


@pytest.mark.parametrize(
    ("code", "canonical"),
    [
        ("sw", "swh"), ("swa", "swh"), ("swh", "swh"), ("swh_Latn", "swh"), ("__label__sw", "swh"),
        ("sw-KE", "swh"), ("Swahili", "swh"), ("ms", "zsm"), ("ar", "arb"), ("fa", "pes"),
        ("ne", "npi"), ("zh", "zho"), ("zh_Hans", "zho"), ("zh-cn", "zho"), ("et", "est"),
        ("lv", "lvs"), ("mn", "khk"), ("ps", "pbt"), ("uz", "uzn"), ("az", "azj"), ("yo", "yor"),
        ("no", "nob"), ("nb", "nob"), ("sq", "als"), ("als", "als"), ("__label__als", "gsw"),
        ("ger", "deu"), ("ha", "hau"),
    ],
)
def test_normalize_lang(code, canonical):
    assert normalize_lang(code) == canonical


def test_unknown_code_names_the_closest_matches():
    with pytest.raises(ValueError, match="closest.*swh"):
        normalize_lang("swx")
    with pytest.raises(ValueError, match="unknown lid.176 label"):
        normalize_lang("__label__xx")


def test_language_table():
    swahili = language("sw")
    assert (swahili.code, swahili.script, swahili.name, swahili.lid_label) == ("swh", "Latn", "Swahili", "sw")
    assert "Latn" in language("srp").scripts and "Cyrl" in language("srp").scripts
    assert is_lid176_language("yor") and not is_lid176_language("hau")


def test_tags_and_confusables():
    assert lang_tag("swh", "Latn") == "swh_Latn"
    assert split_tag("srp_Cyrl") == ("srp", "Cyrl")
    assert are_confusable("zsm", "ind") and are_confusable("nob", "nno") and are_confusable("hrv", "srp")
    assert not are_confusable("swh", "yor") and not are_confusable("zsm", "zsm")


def test_unspaced_scripts_have_one_definition_that_tokenizer_and_shingles_share():
    # Tibetan was unspaced for the tokenizer but not for dedup's shingles before they shared it.
    tibetan = "བོད་ཡིག་ནི་"
    assert is_unspaced_script("Tibt") and dominant_script(tibetan)[0] == "Tibt"
    assert words(tibetan) == ["བོ", "ད", "་", "ཡི", "ག", "་", "ནི", "་"]  # a character (with its marks) a token
    chars, starts = tokenize_codepoints(tibetan)
    assert len(starts) == len(chars) == 8  # a code point a token, like Thai and Chinese, not one long word
    assert words("请写一首诗") == list("请写一首诗")
