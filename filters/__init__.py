"""Language ID, heuristic quality rules and deduplication: the steps that decide what stays."""
