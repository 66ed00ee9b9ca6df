"""curate: recipe-driven curation of per-language instruction, QA and dialogue datasets."""

__version__ = "0.1.0"
