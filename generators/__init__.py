"""LLM-driven generators (instruction, QA, dialogue, translation). Arrive with part 2."""
