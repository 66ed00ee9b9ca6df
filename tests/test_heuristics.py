"""QualityFilter: each rule drops the junk it is for, clean text in several scripts stays."""

from __future__ import annotations

import pytest
from datatrove.data import Document

from curation.errors import RecipeError
from filters.heuristics import INSTRUCTION_RULES, RULES, QualityFilter
from filters.stopwords import stop_words
from filters.tokenize import tokenize, words

ENGLISH = (
    "The river that runs through the old town was cleaned last spring by a group of volunteers. "
    "They removed plastic bottles, old tyres and broken furniture from the water and the banks. "
    "Local schools joined the effort, and children planted trees along the path to the bridge.\n"
    "The council has promised to pay for new bins and to check the water every month. "
    "Fishermen say that the fish have started to come back, which is good news for the market. "
    "Many families now walk along the river in the evening, and a small cafe has opened there."
)
SWAHILI = (
    "Mvua kubwa iliyonyesha wiki iliyopita katika kaunti ya Kisumu imesababisha mafuriko makubwa. "
    "Wakazi wengi wamelazimika kuhama makazi yao na kutafuta hifadhi katika shule na makanisa. "
    "Serikali ya kaunti imeahidi kutoa chakula, maji safi na dawa kwa familia zilizoathirika. "
    "Wataalamu wa hali ya hewa wanasema kwamba mvua zaidi inatarajiwa katika siku zijazo, "
    "kwa hiyo wananchi wanashauriwa kuwa waangalifu na kufuata maelekezo ya viongozi wao."
)
YORUBA = (
    "Ìlú Ìbàdàn jẹ́ ọ̀kan lára àwọn ìlú tó tóbi jùlọ ní ilẹ̀ Áfíríkà, ó sì ní ìtàn tó gùn. "
    "Àwọn ènìyàn tí ń gbé ní ìlú náà máa ń ṣe òwò, wọ́n sì ń ta oúnjẹ àti aṣọ ní ọjà Dùgbẹ̀. "
    "Ní ọdún tó kọjá, ìjọba ìpínlẹ̀ kọ́ ọ̀nà tuntun láti so àwọn agbègbè ìlú pọ̀. "
    "Àwọn ọmọ ilé-ìwé sọ pé ọ̀nà náà ti jẹ́ kí ìrìn-àjò wọn rọrùn, wọ́n sì dúpẹ́ fún iṣẹ́ náà."
)
NEPALI = (
    "काठमाडौं उपत्यकामा यस वर्ष धेरै वर्षा भएको छ र धेरै सडकहरू पानीले भरिएका छन्। "
    "स्थानीय सरकारले नालाहरू सफा गर्न नयाँ योजना सुरु गरेको छ, तर काम अझै पूरा भएको छैन। "
    "नागरिकहरूले भने कि उनीहरूलाई बाटोमा हिँड्न गाह्रो भएको छ र बालबालिका विद्यालय जान सकेका छैनन्। "
    "सरकारका अधिकारीहरूले आगामी महिनासम्म सबै नालाहरू सफा गर्ने वाचा गरेका छन् र जनतालाई धैर्य गर्न आग्रह गरेका छन्।"
)
AMHARIC = (
    "አዲስ አበባ የኢትዮጵያ ዋና ከተማ ናት እና በአፍሪካ ውስጥ ካሉ ትላልቅ ከተሞች አንዷ ናት። "
    "ከተማዋ በብዙ ሰዎች የምትኖር ሲሆን በየዓመቱ አዳዲስ ሕንፃዎች እና መንገዶች ይገነባሉ። "
    "የከተማው አስተዳደር ለነዋሪዎች ንጹሕ ውሃ እና ኤሌክትሪክ ለማቅረብ ብዙ ሥራ እየሠራ ነው። "
    "ነገር ግን የትራፊክ መጨናነቅ አሁንም ትልቅ ችግር ነው፤ ብዙ ሰዎች ወደ ሥራ ለመሄድ ረጅም ሰዓት ይጠብቃሉ። "
    "ባለሙያዎች እንደሚሉት የሕዝብ ማመላለሻ አገልግሎትን ማሻሻል ችግሩን ለመፍታት ይረዳል።"
)
CHINESE = (
    "北京是中国的首都，也是一座有着三千多年历史的文化名城。这里有故宫、天坛和长城等著名的名胜古迹，"
    "每年吸引着来自世界各地的大量游客。近年来，北京的交通和环境都有了很大的改善，地铁线路不断增加，"
    "空气质量也在逐步提高。许多年轻人在这里学习和工作，他们认为这座城市充满了机会和活力。"
)


def verdict(step: QualityFilter, text: str, lang: str | None = "eng_Latn"):
    metadata = {"lang": lang} if lang else {}
    return step.keep(Document(text=text, id="t", metadata=metadata))


@pytest.mark.parametrize(
    ("text", "lang"),
    [(ENGLISH, "eng_Latn"), (SWAHILI, "swh_Latn"), (YORUBA, "yor_Latn"), (NEPALI, "npi_Deva"),
     (AMHARIC, "amh_Ethi"), (CHINESE, "zho_Hans")],
)
def test_clean_text_is_kept_in_every_script(text: str, lang: str) -> None:
    assert verdict(QualityFilter(), text, lang) is True


def test_short_good_yoruba_paragraph_is_kept() -> None:
    paragraph = YORUBA.split("\n")[0]
    assert 50 <= len(words(paragraph)) <= 80
    assert verdict(QualityFilter(), paragraph, "yor_Latn") is True


@pytest.mark.parametrize(
    ("junk", "rule"),
    [
        ("\n\n".join([ENGLISH.split("\n")[0]] * 4), "gopher_dup_paragraphs"),
        (ENGLISH + "\n" + "\n".join(["Click here to subscribe to our newsletter today"] * 3), "gopher_dup_lines"),
        (ENGLISH + " " + " ".join(["buy cheap shoes now"] * 40), "gopher_top_ngram"),
        ("River clean up day. " * 3, "gopher_top_ngram"),
        (ENGLISH.split(". ")[0], "gopher_word_count"),
        (" ".join(["a b c d e of to in"] * 12), "gopher_mean_word_length"),
        (ENGLISH.replace(" the ", " #the #"), "gopher_symbol_ratio"),
        ("\n".join("- " + line for line in ENGLISH.replace(". ", ".\n").split("\n")), "gopher_bullet_lines"),
        ("\n".join(s[:60] + "..." for s in ENGLISH.split(". ")), "gopher_ellipsis_lines"),
        (ENGLISH + "\n" + " ".join(f"{i} | {i * 7} | {i * 13}" for i in range(80)), "gopher_alpha_ratio"),
        ("Cheap flights, hotels, car rentals. Best prices guaranteed! Book online today. " * 8, "gopher_stop_words"),
        (ENGLISH + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.", "c4_lorem_ipsum"),
        (ENGLISH + "\nfunction add(a, b) { return a + b; }", "c4_curly_bracket"),
        (ENGLISH.split("\n")[0] + "\nPlease enable JavaScript to view this page.\nJavaScript is required for the comments.\n"
         "This page needs JavaScript to load its menu.", "c4_javascript"),
        (ENGLISH.split("\n")[0] + "\nThis website uses cookies to help you.\nRead our privacy policy before you go.\n"
         "We changed our terms of use this week.", "c4_policy"),
        (" ".join(ENGLISH.replace(".", "").split()), "c4_sentence_count"),
        (ENGLISH.replace(".", ""), "fineweb_line_punct"),
        (ENGLISH + "\nShare this story\nShare this story", "fineweb_char_dup"),
    ],
)
def test_each_rule_drops_its_junk_with_its_name(junk: str, rule: str) -> None:
    assert verdict(QualityFilter(rules=[rule]), junk) == (False, rule)
    assert verdict(QualityFilter(), junk) is not True  # junk often breaks several rules: any drops it


def test_short_line_and_newline_rules() -> None:
    menu = "\n".join(f"Menu {i}" for i in range(60))
    assert verdict(QualityFilter(rules=["fineweb_short_lines"]), menu) == (False, "fineweb_short_lines")
    assert verdict(QualityFilter(rules=["fineweb_newline_ratio"]), menu) == (False, "fineweb_newline_ratio")
    assert verdict(QualityFilter(rules=["fineweb_short_lines"]), ENGLISH) is True


def test_dup_ngrams_and_dup_chars_rules() -> None:
    repeated = ENGLISH + " " + ENGLISH.split("\n")[1]
    assert verdict(QualityFilter(rules=["gopher_dup_ngrams"]), repeated) == (False, "gopher_dup_ngrams")
    assert verdict(QualityFilter(rules=["gopher_dup_ngrams"]), ENGLISH) is True
    lines = ENGLISH + "\n" + ENGLISH.split("\n")[1]
    assert verdict(QualityFilter(rules=["gopher_dup_line_chars"]), lines) == (False, "gopher_dup_line_chars")
    assert verdict(QualityFilter(rules=["gopher_dup_paragraph_chars"]), ENGLISH + "\n\n" + ENGLISH) == (
        False, "gopher_dup_paragraph_chars")


def test_empty_text_is_dropped() -> None:
    assert verdict(QualityFilter(), "  \n ") == (False, "empty")


def test_scores_are_written_before_deciding() -> None:
    doc = Document(text=ENGLISH + "\nLorem ipsum dolor sit amet, sed do eiusmod.", id="t", metadata={"lang": "eng_Latn"})
    assert QualityFilter().keep(doc) == (False, "c4_lorem_ipsum")
    scores = doc.metadata["scores"]
    assert scores["quality.c4_lorem_ipsum"] == 1
    assert scores["quality.gopher_word_count"] > 90
    assert scores["quality.gopher_stop_words"] >= 5
    assert 3 < scores["quality.gopher_mean_word_length"] < 6
    assert scores["quality.gopher_top_2gram_char_ratio"] < 0.2
    assert {"quality.fineweb_line_punct_ratio", "quality.gopher_dup_10gram_char_ratio", "quality.c4_sentences"} <= set(scores)


def test_only_enabled_rules_are_scored_and_applied() -> None:
    step = QualityFilter(rules=["c4_lorem_ipsum"])
    doc = Document(text="short text", id="t", metadata={"lang": "eng_Latn"})
    assert step.keep(doc) is True
    assert "quality.gopher_word_count" not in doc.metadata["scores"]


def test_thresholds_from_kwargs_dict_and_per_language() -> None:
    short = ENGLISH.split(". ")[0] + "."
    assert verdict(QualityFilter(rules=["gopher_word_count"]), short) == (False, "gopher_word_count")
    assert verdict(QualityFilter(rules=["gopher_word_count"], min_words=5), short) is True
    assert verdict(QualityFilter({"min_words": 5}, rules=["gopher_word_count"]), short) is True
    per_language = QualityFilter(rules=["gopher_word_count"], per_language={"swh": {"min_words": 5}})
    assert verdict(per_language, short, "swh_Latn") is True
    assert verdict(per_language, short, "eng_Latn") == (False, "gopher_word_count")
    by_script = QualityFilter(rules=["gopher_word_count"], per_language={"Ethi": {"min_words": 5}})
    assert verdict(by_script, AMHARIC.split("። ")[0], "amh_Ethi") is True


def test_per_language_stop_words_replace_or_add_a_list() -> None:
    text = " ".join(["zorp blick wum ka tee"] * 20) + "."
    step = QualityFilter(rules=["gopher_stop_words"], per_language={"xyz": {"stop_words": ["wum", "ka"]}})
    assert verdict(step, text, "xyz_Latn") is True
    assert verdict(QualityFilter(rules=["gopher_stop_words"], per_language={"xyz": {"stop_words": ["nope", "no"]}}),
                   text, "xyz_Latn") == (False, "gopher_stop_words")


def test_stop_word_rule_is_skipped_without_a_list_or_language() -> None:
    no_stop_words = " ".join(["zorp blick wum tee"] * 20) + "."
    step = QualityFilter(rules=["gopher_stop_words"])
    assert verdict(step, no_stop_words, "eng_Latn") == (False, "gopher_stop_words")
    assert verdict(step, no_stop_words, "xyz_Latn") is True  # no list for the language
    assert verdict(step, no_stop_words, None) is True  # before LID


def test_stop_word_lists_exist_for_the_languages_we_target() -> None:
    for lang in ["eng", "swh", "yor", "hau", "ibo", "zul", "som", "amh", "npi", "hin", "ben", "mar", "urd", "arb", "pes", "rus", "ukr", "ell", "tur", "ind", "zsm", "vie", "tgl", "spa", "fra", "por", "deu", "ita", "nld", "pol"]:
        assert 15 <= len(stop_words(lang)) <= 40, lang
    assert stop_words("swa") == stop_words("swh_Latn")  # macrolanguage code
    assert stop_words("arb", "Latn") is None  # romanized Arabic is not judged by Arabic-script words


def test_tokenization_keeps_marks_inside_words_and_splits_unspaced_scripts() -> None:
    assert words("नमस्ते दुनिया, मैं ठीक हूँ।") == ["नमस्ते", "दुनिया", "मैं", "ठीक", "हूँ"]
    assert words("আমি বাংলায় গান গাই") == ["আমি", "বাংলায়", "গান", "গাই"]
    assert words("வணக்கம் உலகம்") == ["வணக்கம்", "உலகம்"]
    assert words("ሰላም ለዓለም። እንዴት ነህ?") == ["ሰላም", "ለዓለም", "እንዴት", "ነህ"]
    assert words("می‌خواهم بروم") == ["می\u200cخواهم", "بروم"]
    assert words("Ẹ kú àárọ̀, ṣé dáadáa ni?") == ["Ẹ", "kú", "àárọ̀", "ṣé", "dáadáa", "ni"]
    assert words("我爱北京，iPhone很好。") == ["我", "爱", "北", "京", "iPhone", "很", "好"]
    assert words("東京へ行きました") == list("東京へ行きました")
    assert words("ภาษาไทย") == ["ภ", "า", "ษ", "า", "ไ", "ท", "ย"]
    assert words("ที่", script="Thai") == ["ที่"]  # a consonant keeps its vowel and tone marks


def test_tokens_follow_spacy_conventions_on_english() -> None:
    tok = tokenize("It's 10,000 km... (U.S.) see https://x.org/a?b=1 now!")
    assert tok.tokens == ["It", "'s", "10,000", "km", "...", "(", "U.S.", ")", "see", "https://x.org/a?b=1", "now", "!"]
    assert tok.words == ["It", "'s", "10,000", "km", "U.S.", "see", "https://x.org/a?b=1", "now"]
    assert tok.alphabetic_words == 7  # the number is a word without letters


def test_unspaced_scripts_use_character_bounds() -> None:
    step = QualityFilter()
    doc = Document(text=CHINESE, id="t", metadata={"lang": "zho_Hans"})
    assert step.keep(doc) is True
    assert doc.metadata["scores"]["quality.gopher_mean_word_length"] < 1.2
    assert doc.metadata["scores"]["quality.gopher_stop_words"] >= 2


def test_script_is_detected_from_text_without_language() -> None:
    doc = Document(text=CHINESE, id="t")
    assert QualityFilter().keep(doc) is True


def test_stats_count_drops_per_language_and_reason() -> None:
    step = QualityFilter()
    docs = [
        Document(text=SWAHILI, id="1", metadata={"lang": "swh_Latn"}),
        Document(text="Habari.", id="2", metadata={"lang": "swh_Latn"}),
        Document(text=ENGLISH + "\nfunction f() { return 1; }", id="3", metadata={"lang": "eng_Latn"}),
    ]
    kept = list(step.run(docs))
    assert [d.id for d in kept] == ["1"]
    stats = {key: value.total for key, value in step.stats.stats.items()}
    assert stats["kept/swh_Latn"] == 1
    assert stats["dropped/swh_Latn/gopher_word_count"] == 1
    assert stats["dropped/eng_Latn/c4_curly_bracket"] == 1
    assert stats["in/swh_Latn"] == 2 and stats["in/eng_Latn"] == 1


def test_instruction_rules_keep_short_answers_and_lists() -> None:
    answer = "Mji mkuu wa Kenya ni Nairobi. Ni mji mkubwa na una watu wengi.\n- Nairobi\n- Mombasa\n- Kisumu"
    assert verdict(QualityFilter(), answer, "swh_Latn") is not True
    assert verdict(QualityFilter(rules=INSTRUCTION_RULES), answer, "swh_Latn") is True
    looping = "Jibu: ndiyo ndiyo ndiyo ndiyo ndiyo ndiyo ndiyo ndiyo ndiyo ndiyo ndiyo ndiyo ni wa."
    assert verdict(QualityFilter(rules=INSTRUCTION_RULES), looping, "swh_Latn") == (False, "gopher_top_ngram")


def test_unknown_rules_and_thresholds_are_recipe_errors() -> None:
    with pytest.raises(RecipeError, match="unknown rule"):
        QualityFilter(rules=["gopher_word_cont"])
    with pytest.raises(RecipeError, match="min_word"):
        QualityFilter(min_word=3)
    with pytest.raises(RecipeError, match="per_language.swh"):
        QualityFilter(per_language={"swh": {"min_word": 3}})
    assert set(INSTRUCTION_RULES) <= set(RULES)


def test_negative_thresholds_are_recipe_errors_naming_the_threshold() -> None:
    with pytest.raises(RecipeError, match=r"thresholds\.min_words: must be at least 0 \(got -3\)"):
        QualityFilter({"min_words": -3})
    with pytest.raises(RecipeError, match=r"per_language\.swh\.fineweb_max_newline_ratio: must be at least 0"):
        QualityFilter(per_language={"swh": {"fineweb_max_newline_ratio": -0.1}})
    with pytest.raises(RecipeError, match=r"QualityFilter\.max_top_ngram_char_ratio: expected \[n, ratio\] pairs"):
        QualityFilter(max_top_ngram_char_ratio=[[2, -0.2]])
    # zero and None (a bound switched off) stay allowed
    assert QualityFilter({"min_words": 0, "max_words": None, "min_stop_words": 0}).thresholds.min_words == 0


def test_chat_records_get_the_instruction_rules_unless_rules_are_chosen():
    """A short, good Swahili exchange is kept as a chat record; as plain web text it is too short."""
    exchange = [{"role": "user", "content": "Ni faida gani za kunywa maji ya kutosha kila siku?"},
                {"role": "assistant", "content": "Maji husaidia mwili kudhibiti joto, na pia huboresha "
                                                 "usagaji wa chakula na afya ya ngozi yako."}]
    text = "\n\n".join(m["content"] for m in exchange)
    chat = Document(text=text, id="chat", metadata={"lang": "swh_Latn", "messages": exchange})
    plain = Document(text=text, id="plain", metadata={"lang": "swh_Latn"})
    step = QualityFilter()
    assert step.keep(chat) is True
    assert step.keep(plain) == (False, "gopher_word_count")
    assert QualityFilter(rules=RULES).keep(Document(text=text, id="c2", metadata=dict(chat.metadata))) == (
        False, "gopher_word_count")
