"""A step the select tests use through the recipe's `custom` escape hatch (importable by worker processes)."""

from __future__ import annotations

from datatrove.pipeline.base import PipelineStep


class ScoresFromInput(PipelineStep):
    """Copies input fields (the reader keeps them under `metadata["extra"]`) into a named score and the
    language: records that arrive already scored and labelled, as from an earlier run."""

    name = "scores_from_input"

    def __init__(self, score_field: str = "score", score_key: str = "confidence", lang_field: str = "lang"):
        super().__init__()
        self.score_field = score_field
        self.score_key = score_key
        self.lang_field = lang_field

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            extra = doc.metadata.get("extra") or {}
            if self.score_field in extra:
                doc.metadata.setdefault("scores", {})[self.score_key] = extra[self.score_field]
            if self.lang_field in extra:
                doc.metadata["lang"] = extra[self.lang_field]
            yield doc
