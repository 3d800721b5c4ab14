"""Typed, pure values: vocabularies, results, the case model, units and gestational age."""
