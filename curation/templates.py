"""Labelled datasets as instruction data: a record's fields rendered through prompt templates (xP3).

An input with `templates:` (an NLI set, a sentiment or topic set, extractive QA, summaries,
paraphrase pairs) becomes chat records: the user turn is a template's prompt over the record's
fields, the assistant turn the answer (the label's word in the prompt's language, or the answer or
summary field). No model is asked. The shipped template sets are `prompt_templates/<shape>.yaml`;
a recipe can give its own (`custom`).

Which templates render a record is decided by the record alone: every template is ranked by a
hash of (record id, template name), and the first `per_record` are used (rendezvous hashing), so
a rerun, another task count or another file order gives the same pairs, and adding a template
moves only the records that now rank it first.

Jinja2 (sandboxed, StrictUndefined) rather than str.format: a field a template needs and the
record lacks is an error to quarantine, never a blank in a prompt; `join` and `if` let one
template list choices or skip an optional title; and recipe-given templates cannot reach Python
objects through attribute access.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

from curation.errors import RecipeError, RecordError
from curation.languages import normalize_lang
from curation.recipe import TemplateSpec

SHAPES = ("nli", "sentiment", "topic", "extractive_qa", "summarization", "paraphrase")
DEFAULT_ANSWER = "{{ answer }}"


@dataclass(frozen=True)
class Template:
    name: str
    language: str  # the prompt's language, as the template set spells it (en, fr, sw...)
    prompt: str
    answer: str = DEFAULT_ANSWER


@dataclass(frozen=True)
class TemplateSet:
    """Everything needed to render one input's records; plain strings, so it pickles to every task."""

    shape: str | None
    fields: tuple[str, ...]  # the shape's fields every record must have
    field_map: dict[str, str]  # shape field -> the record's field (dotted)
    answer_field: str | None
    labels: dict[str, str]  # the record's label value (as text) -> choice name
    choices: dict[str, dict[str, str]]  # choice name -> {prompt language: word}
    templates: dict[str, tuple[Template, ...]]  # prompt language -> templates
    prompt_language: str  # "en" or "data"
    language: str | None
    language_key: str | None
    per_record: int

    @property
    def has_choices(self) -> bool:
        return bool(self.choices) or bool(self.labels)


def shipped_shape(shape: str) -> dict[str, Any]:
    text = resources.files("curation").joinpath("prompt_templates", f"{shape}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _templates_by_language(raw: dict[str, list[dict[str, str]]]) -> dict[str, tuple[Template, ...]]:
    return {lang: tuple(Template(t["name"], lang, t["prompt"], t.get("answer", DEFAULT_ANSWER)) for t in items)
            for lang, items in raw.items()}


def load_template_set(spec: TemplateSpec) -> TemplateSet:
    """The shipped set for `spec.shape` with the recipe's overrides, checked; RecipeError if unusable."""
    shipped = shipped_shape(spec.shape) if spec.shape else {}
    choices = {name: dict(words) for name, words in (shipped.get("choices") or {}).items()}
    for name, words in spec.choices.items():
        choices.setdefault(name, {}).update(words)
    labels = {str(k): v for k, v in (spec.labels if spec.labels is not None else shipped.get("labels") or {}).items()}
    if spec.custom:
        templates: dict[str, tuple[Template, ...]] = {}
        for t in spec.custom:
            templates.setdefault(t.language, ())
            templates[t.language] += (Template(t.name, t.language, t.prompt, t.answer),)
    else:
        templates = _templates_by_language(shipped.get("templates") or {})
    labels = {**{name: name for name in choices}, **labels}  # a label may also be the choice's name itself
    template_set = TemplateSet(
        shape=spec.shape, fields=tuple(shipped.get("fields") or ()), field_map=dict(spec.fields),
        answer_field=shipped.get("answer_field"), labels=labels, choices=choices, templates=templates,
        prompt_language=spec.prompt_language, language=spec.language, language_key=spec.language_key,
        per_record=spec.per_record)
    _check(template_set)
    return template_set


def _check(ts: TemplateSet) -> None:
    unknown = sorted(set(ts.labels.values()) - set(ts.choices)) if ts.choices else []
    if unknown:
        raise RecipeError(f"labels name choices with no words: {', '.join(unknown)} (add them under `choices`)")
    if ts.shape == "topic" and not ts.choices:
        raise RecipeError("topic: give the categories' words, e.g. choices: {sports: {en: sports, sw: michezo}}")
    for lang, templates in ts.templates.items():
        for template in templates:
            try:
                _compiled(template.prompt)
                _compiled(template.answer)
            except jinja2.TemplateSyntaxError as e:
                raise RecipeError(f"template {lang}/{template.name}: {e.message} (line {e.lineno})") from None
    if ts.prompt_language == "en" or ts.language:
        lang = prompt_language_of(ts, ts.language)  # raises RecipeError when nothing is shipped for it
        missing = [name for name, words in ts.choices.items() if lang not in words]
        if missing:
            raise RecipeError(f"no {lang} word for the choices {', '.join(sorted(missing))} (add them under `choices`)")


def prompt_language_of(ts: TemplateSet, data_language: str | None) -> str:
    """The language whose templates render a record: English, or the data's own when asked and shipped."""
    if ts.prompt_language == "en":
        wanted = "en"
    elif data_language is None:
        raise RecordError("no_language", f"no language for the record ({ts.language_key!r} is empty)")
    else:
        wanted = data_language
    by_code = {}
    for lang in ts.templates:
        try:
            by_code[normalize_lang(lang)] = lang
        except ValueError:
            by_code[lang] = lang
    try:
        key = normalize_lang(wanted)
    except ValueError:
        key = wanted
    if key not in by_code:
        message = (f"no templates in {wanted!r}; shipped: {', '.join(sorted(ts.templates))} "
                   "(give your own under `custom`, or prompt_language: en)")
        if ts.language_key and data_language is not None and ts.prompt_language == "data":
            raise RecordError("no_templates_for_language", message)
        raise RecipeError(message)
    return by_code[key]


@functools.cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


@functools.cache
def _compiled(source: str) -> jinja2.Template:
    return _environment().from_string(source)


def choose_templates(templates: tuple[Template, ...], record_id: str, count: int) -> list[Template]:
    """The `count` templates ranked first for this record by hash(record id, template name)."""
    def rank(template: Template) -> bytes:
        return hashlib.blake2b(f"{record_id}\0{template.name}".encode(), digest_size=8).digest()
    return sorted(templates, key=rank)[:count]


def _field(obj: dict[str, Any], dotted: str) -> Any:
    node: Any = obj
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _context(obj: dict[str, Any], ts: TemplateSet, lang: str) -> dict[str, Any]:
    """The variables a template sees: the record's fields, the shape's fields by their shape names,
    and for choice shapes `choices` (words in the prompt's language) and `answer` (the label's word)."""
    context = dict(obj)
    for name in ts.fields:
        value = _field(obj, ts.field_map.get(name, name))
        if not _present(value):
            raise RecordError("missing_field", f"{name} (record field {ts.field_map.get(name, name)!r})")
        context[name] = value.strip() if isinstance(value, str) else value
    if ts.has_choices:
        words = {name: by_lang.get(lang) for name, by_lang in ts.choices.items()}
        if any(word is None for word in words.values()):
            missing = sorted(name for name, word in words.items() if word is None)
            raise RecordError("no_choice_word", f"no {lang} word for {', '.join(missing)}")
        context["choices"] = [words[name] for name in ts.choices]
        if ts.answer_field:
            label = context.get(ts.answer_field)
            key = str(label).lower() if isinstance(label, bool) else str(label)
            if key not in ts.labels:
                raise RecordError("unknown_label", f"{ts.answer_field}={label!r} is none of {sorted(ts.labels)}")
            context["answer"] = words[ts.labels[key]]
    elif ts.answer_field:
        context["answer"] = context[ts.answer_field]
    return context


@dataclass(frozen=True)
class Rendered:
    template: str  # <language>/<name>
    prompt: str
    answer: str


def render_record(obj: dict[str, Any], ts: TemplateSet, record_id: str) -> list[Rendered]:
    """The prompt/answer pairs of one record, or RecordError naming what it lacks."""
    data_language = ts.language
    if ts.language_key:
        value = _field(obj, ts.language_key)
        data_language = value if isinstance(value, str) and value.strip() else None
    lang = prompt_language_of(ts, data_language)
    context = _context(obj, ts, lang)
    rendered = []
    for template in choose_templates(ts.templates[lang], record_id, ts.per_record):
        try:
            prompt = _compiled(template.prompt).render(context).strip()
            answer = _compiled(template.answer).render(context).strip()
        except jinja2.UndefinedError as e:
            raise RecordError("template_missing_field", f"{lang}/{template.name}: {e.message}") from None
        except jinja2.TemplateError as e:
            raise RecordError("template_error", f"{lang}/{template.name}: {e}") from None
        if not prompt or not answer:
            raise RecordError("empty_text", f"{lang}/{template.name} rendered an empty "
                              f"{'prompt' if not prompt else 'answer'}")
        rendered.append(Rendered(f"{lang}/{template.name}", prompt, answer))
    return rendered
