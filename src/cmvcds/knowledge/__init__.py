"""Versioned clinical knowledge as data, and its validating loader (the bottom layer)."""

from cmvcds.knowledge.loader import DEFAULT_PACK, Knowledge, load_knowledge

__all__ = ["DEFAULT_PACK", "Knowledge", "load_knowledge"]
