"""PyYAML, imported without compiling the one regular expression of it that cmvcds never runs.

Why (issue 20, item 3): at import, ``yaml.reader`` compiles the characters YAML forbids, written
as the complement of the allowed ranges (``[^\\x09\\x0A\\x0D\\x20-\\x7E\\x85\\xA0-\\uD7FF…]``).
Python's regular-expression compiler walks every code point of those ranges: 57 M instructions,
5 % of a cold ``cmvcds assess`` (callgrind, whole process), for a pattern that only PyYAML's
pure-Python reader uses, while cmvcds reads YAML with libyaml (``CSafeLoader``) where present.
The same set of characters written as the ranges it leaves out compiles in 4 M. Put in ``re``'s
cache under PyYAML's pattern text before ``yaml`` is imported, that compiled pattern is what
``yaml.reader``'s ``re.compile`` returns: it matches exactly the same characters
(``tests/test_pyyaml.py`` checks every code point), so the pure-Python reader, where it is used,
refuses the same texts with the same message. Where a Python version keeps its cache otherwise,
nothing is seeded and PyYAML compiles its own pattern: slower, the same answers.

Import ``yaml`` from here (``from cmvcds.knowledge.pyyaml import yaml``), not directly.
"""

from __future__ import annotations

import re
import sys

__all__ = ["PYYAML_NON_PRINTABLE", "SAME_CHARACTERS", "yaml"]

#: ``yaml.reader.Reader.NON_PRINTABLE``'s pattern, as PyYAML 5.1–6.x writes it.
PYYAML_NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
#: The same characters: C0 controls but tab, LF and CR; DEL and C1 but NEL; surrogates; U+FFFE/F.
SAME_CHARACTERS = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"


def _seed() -> None:
    """Put the cheap pattern in ``re``'s cache under PyYAML's text (see the module)."""
    cache = getattr(re, "_cache", None)
    if "yaml.reader" not in sys.modules and isinstance(cache, dict):
        cache.setdefault((str, PYYAML_NON_PRINTABLE, 0), re.compile(SAME_CHARACTERS))


_seed()

import yaml  # noqa: E402  (after the seeding, on purpose)
