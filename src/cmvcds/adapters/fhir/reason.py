"""A sentence the FHIR mapping writes in English, kept with its template and values so that a
page can say it in its own language.

``Reason`` is the English text (a ``str``: the API, CDS cards and logs use it as it is) that also
carries its template (``%(name)s`` placeholders) and the values filled in. The web layer translates
the template through its gettext catalogue (the template is the msgid) and fills in the values,
translating those that are ``Reason``\\ s in turn (``adapters/web/i18n.said``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["Reason"]


class Reason(str):
    """``template % values``, remembering both."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Reason:
        made = super().__new__(cls, template % values if values else template)
        made.template = template
        made.values = values
        return made

    @classmethod
    def joined(cls, separator: str, parts: Sequence[str]) -> Reason:
        """``parts`` joined by ``separator``, each said in turn (a template of no words: a
        catalogue has nothing to translate in it)."""
        separator = separator.replace("%", "%%")
        template = separator.join(f"%(p{i})s" for i in range(len(parts)))
        return cls(template, **{f"p{i}": part for i, part in enumerate(parts)})
