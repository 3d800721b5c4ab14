"""The date logic of a form said beside its fields (issue 15 item 8), as REDCap users expect to
see it before they save: which date may not lie in the future, which may not come before or
after which other date, and whether a breach refuses the form (hard) or saves it and opens a
query for the monitor (soft). Built from the study's ``date_checks`` (the same rows
``registry.date_checks`` applies on save), so what the page says is what the save does."""

from __future__ import annotations

from cmvcds.adapters.web.i18n import gettext as _
from cmvcds.adapters.web.texts import clinical
from cmvcds.registry.date_checks import CONSENT
from cmvcds.registry.dictionary import Crf

__all__ = ["date_hints"]


def _other_label(crf: Crf, other: str) -> str:
    if other == CONSENT:
        return _("the date consent was signed")
    row = crf.by_name.get(other)
    return clinical(row.field_label) if row is not None else other


def date_hints(crf: Crf, instrument: str) -> dict[str, list[str]]:
    """``{field: [one line per date check of the field]}`` for ``instrument``'s fields."""
    hints: dict[str, list[str]] = {}
    for check in crf.design.date_checks:
        if check.instrument != instrument:
            continue
        if check.rule == "not_future":
            rule = _("not in the future")
        elif check.rule == "not_before":
            rule = _("not before %(other)s") % {"other": _other_label(crf, check.other or "")}
        else:
            rule = _("not after %(other)s") % {"other": _other_label(crf, check.other or "")}
        effect = (
            _("hard check: the form is not saved")
            if check.severity == "hard"
            else _("soft check: the form is saved and a query is opened for the monitor")
        )
        hints.setdefault(check.field, []).append(f"{rule} ({effect})")
    return hints
