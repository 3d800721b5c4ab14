"""Pack text joined into the engine's sentences without doubling a full stop.

A row of the knowledge pack may or may not end with its own full stop ("Do not give
valganciclovir with an ANC below 500 cells/µL (label §5.1)." against "hold the drug; recheck
the ANC"). The engine quotes such rows inside longer sentences: ``clause`` gives a row without
its closing full stop, to go on inside a sentence; ``sentence`` ends a text with exactly one.
"""

from __future__ import annotations

__all__ = ["clause", "sentence"]


def clause(text: str) -> str:
    """``text`` without its closing full stop (and trailing spaces), to quote inside a sentence."""
    return text.rstrip(". ")


def sentence(text: str) -> str:
    """``text`` ending with exactly one full stop (a closing ``?`` or ``!`` is kept as it is)."""
    return text if text.endswith(("?", "!")) else clause(text) + "."
