"""Ready recipes and the bundled quickstart sample (package data, found via importlib.resources)."""
