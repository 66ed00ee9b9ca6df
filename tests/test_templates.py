"""Prompt templates over labelled records (xP3-style): every shape renders, choices are words in the
prompt's language, which template renders a record depends on the record alone, and a record that lacks
a field is quarantined, never rendered with a hole."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from curation.errors import RecipeError
from curation.inputs import expand_inputs
from curation.readers import SourceReader
from curation.recipe import InputSpec, Limits, TemplateSpec
from curation.templates import SHAPES, choose_templates, load_template_set, render_record, shipped_shape
from tests.conftest import load_stats, run_cli, step_stats, write_jsonl, write_recipe

XNLI = [  # premise, hypothesis, label (XNLI ids: 0 entailment, 1 neutral, 2 contradiction)
    {"id": "sw-1", "lang": "sw", "premise": "Mvua kubwa ilinyesha jana usiku katika mji mzima wa Mombasa.",
     "hypothesis": "Jana usiku kulikuwa na mvua.", "label": 0},
    {"id": "fr-1", "lang": "fr", "premise": "Le musée ferme ses portes tous les lundis pendant l'hiver.",
     "hypothesis": "Le musée est ouvert le lundi en hiver.", "label": 2},
    {"id": "es-1", "lang": "es", "premise": "El tren salió de Madrid a las ocho de la mañana.",
     "hypothesis": "El tren llegó tarde a Sevilla.", "label": 1},
]
ROWS = {  # one record per shape, fields under the shapes' own names
    "nli": {"premise": "A man plays a guitar on the street.", "hypothesis": "A man is making music.", "label": 0},
    "sentiment": {"text": "The food was cold and the waiter ignored us all evening.", "label": 0},
    "topic": {"text": "The striker scored twice in the final minutes of the match.", "label": "sports"},
    "extractive_qa": {"context": "The Nile flows north through eleven countries into the Mediterranean Sea.",
                      "question": "Into which sea does the Nile flow?", "answer": "the Mediterranean Sea"},
    "summarization": {"document": "The city council voted on Tuesday to build three new libraries over the "
                      "next five years, funded by a small increase in property taxes.",
                      "summary": "The council approved three new libraries funded by a tax rise."},
    "paraphrase": {"sentence1": "He left the house early.", "sentence2": "He departed from home early.",
                   "label": 1},
}
TOPICS = {"sports": {"en": "sports", "sw": "michezo", "fr": "sport", "es": "deportes"},
          "politics": {"en": "politics", "sw": "siasa", "fr": "politique", "es": "política"}}


def spec_for(shape: str, **kw) -> TemplateSpec:
    return TemplateSpec(shape=shape, choices=TOPICS if shape == "topic" else {}, **kw)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shipped_template_of_every_shape_renders_without_holes(shape):
    shipped = shipped_shape(shape)
    assert len(shipped["templates"]["en"]) >= 3
    for lang, templates in shipped["templates"].items():
        template_set = load_template_set(spec_for(shape, prompt_language="data", language=lang,
                                                  per_record=len(templates)))
        rendered = render_record(ROWS[shape], template_set, "r1")
        assert len(rendered) == len(templates)
        for item in rendered:
            assert item.prompt and item.answer and "{{" not in item.prompt and "None" not in item.prompt
            if shape in ("extractive_qa", "summarization"):
                assert item.answer == ROWS[shape]["answer" if shape == "extractive_qa" else "summary"]
            else:
                words = [w[lang] for w in (TOPICS if shape == "topic" else shipped["choices"]).values()]
                assert item.answer in words and all(w in item.prompt for w in words)


def test_choices_are_words_in_the_prompts_language():
    swahili = load_template_set(TemplateSpec(shape="nli", prompt_language="data", language="swh"))
    (item,) = render_record(XNLI[0], swahili, "sw-1")
    assert item.answer == "Ndiyo" and "Ndiyo, Labda, Hapana" in item.prompt and item.template.startswith("sw/")
    english = load_template_set(TemplateSpec(shape="nli"))
    (item,) = render_record(XNLI[0], english, "sw-1")
    assert item.answer == "Yes" and "Mvua kubwa" in item.prompt and item.template.startswith("en/")
    hindi = load_template_set(TemplateSpec(shape="sentiment", language="hi", prompt_language="data", custom=[
        {"name": "bhavna", "language": "hi", "prompt": "{{ text }}\nइस पाठ की भावना क्या है? {{ choices | join(', ') }}"}]))
    (item,) = render_record(ROWS["sentiment"], hindi, "x")
    assert item.answer == "नकारात्मक" and "सकारात्मक" in item.prompt  # shipped Hindi words, the recipe's template


def test_which_templates_render_a_record_depends_on_its_id_only():
    templates = load_template_set(TemplateSpec(shape="nli")).templates["en"]
    picks = {rid: [t.name for t in choose_templates(templates, rid, 2)] for rid in (f"r{i}" for i in range(60))}
    again = {rid: [t.name for t in choose_templates(tuple(reversed(templates)), rid, 2)] for rid in picks}
    assert picks == again  # not the order the templates are listed in
    assert {name for names in picks.values() for name in names} == {t.name for t in templates}
    assert all(len(set(names)) == 2 for names in picks.values())


def test_unusable_template_settings_are_one_line_recipe_errors():
    with pytest.raises(RecipeError, match="no templates in 'yo'"):
        load_template_set(TemplateSpec(shape="nli", prompt_language="data", language="yo"))
    with pytest.raises(RecipeError, match="topic: give the categories"):
        load_template_set(TemplateSpec(shape="topic"))
    with pytest.raises(RecipeError, match="no sw word for the choices politics"):
        load_template_set(TemplateSpec(shape="topic", prompt_language="data", language="sw",
                                       choices={"politics": {"en": "politics"}, "sports": TOPICS["sports"]}))
    with pytest.raises(RecipeError, match="template en/x"):
        load_template_set(TemplateSpec(custom=[{"name": "x", "prompt": "{{ text"}]))
    with pytest.raises(ValueError, match="needs `language` or `language_key`"):
        TemplateSpec(shape="nli", prompt_language="data")


def read_all(spec: InputSpec, tmp_path: Path):
    reader = SourceReader([spec], expand_inputs([spec]), str(tmp_path / "q"), Limits())
    docs = list(reader.run(None, 0, 1))
    quarantine = [json.loads(line) for line in (tmp_path / "q" / "00000.jsonl").read_text().splitlines()]
    return docs, quarantine


def test_records_missing_a_field_or_with_an_unknown_label_are_quarantined(tmp_path):
    rows = [*XNLI, {"id": "x-1", "premise": "Only a premise.", "label": 0},
            {"id": "x-2", "premise": "A premise.", "hypothesis": "   ", "label": 0},
            {"id": "x-3", "premise": "A premise.", "hypothesis": "A hypothesis.", "label": 7}]
    write_jsonl(tmp_path / "xnli.jsonl", rows)
    spec = InputSpec(path=str(tmp_path / "xnli.jsonl"), id_key="id",
                     templates={"shape": "nli", "prompt_language": "data", "language_key": "lang", "per_record": 2})
    docs, quarantine = read_all(spec, tmp_path)
    assert [(q["line"], q["reason"]) for q in quarantine] == [
        (4, "no_language"), (5, "no_language"), (6, "no_language")]
    spec = spec.model_copy(update={"templates": TemplateSpec(shape="nli", per_record=2)})
    (tmp_path / "q").rename(tmp_path / "q1")
    docs, quarantine = read_all(spec, tmp_path)
    assert [(q["line"], q["reason"], q["detail"]) for q in quarantine] == [
        (4, "missing_field", "hypothesis (record field 'hypothesis')"),
        (5, "missing_field", "hypothesis (record field 'hypothesis')"),
        (6, "unknown_label", "label=7 is none of ['0', '1', '2', 'contradiction', 'entailment', 'neutral']")]
    assert len(docs) == 6 and len({d.id for d in docs}) == 6  # two templates per record, ids distinct
    assert [d.metadata["messages"][1]["content"] for d in docs] == ["Yes", "Yes", "No", "No", "Maybe", "Maybe"]
    assert docs[0].id.startswith("sw-1#en/") and docs[0].metadata["template"] == docs[0].id.split("#")[1]
    assert docs[0].metadata["extra"]["premise"] == XNLI[0]["premise"]  # the labelled fields stay beside


def test_curate_run_on_a_labelled_set_in_three_languages(tmp_path):
    write_jsonl(tmp_path / "xnli.jsonl", XNLI * 2)  # every record twice: dedup drops the copies
    out = tmp_path / "out"
    recipe = write_recipe(tmp_path / "recipe.yaml", {
        "name": "multitask", "output": str(out),
        "inputs": [{"path": str(tmp_path / "xnli.jsonl"), "id_key": "id",
                    "templates": {"shape": "nli", "prompt_language": "data", "language_key": "lang",
                                  "per_record": 2}}],
        "steps": [{"lid": {"label_only": True}}, {"dedup": {}}]})
    result = run_cli("run", recipe)
    assert result.exit_code == 0, result.output
    stats = load_stats(out)
    assert stats["accounting"]["ok"], stats["accounting"]
    assert step_stats(stats, "read")["kept"] == 10  # 2 templates each, but Swahili ships one for NLI
    assert step_stats(stats, "dedup")["dropped"] == {"exact_duplicate": 5}
    resolved = yaml.safe_load((out / "recipe.resolved.yaml").read_text())
    assert resolved["inputs"][0]["templates"]["shape"] == "nli"

    rows = pl.read_parquet(str(out / "data" / "*" / "*.parquet"))
    answers = {json.loads(m)["template"].split("/")[0]: t[1]["content"]
               for m, t in zip(rows["metadata"], rows["messages"], strict=True)}
    assert answers == {"sw": "Ndiyo", "fr": "Non", "es": "Quizás"}
