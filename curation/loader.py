"""The one `package.module:Class` escape hatch: a recipe names a class of the user's own.

Custom steps (`steps: [{custom: {use: ...}}]`) and custom engines (`llm.engine: pkg.mod:Class`) both
come through here, so an unimportable name reads the same everywhere: one line that names the
recipe field, the target and why.
"""

from __future__ import annotations

import importlib

from curation.errors import RecipeError


def load_class(target: str, where: str) -> type:
    """The class `target` (`package.module:ClassName`) names; `where` is the recipe field, for messages."""
    module_name, _, class_name = target.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as e:
        raise RecipeError(f"{where} {target}: cannot import it ({e})") from None
    if not isinstance(found, type):
        raise RecipeError(f"{where} {target}: not a class")
    return found
