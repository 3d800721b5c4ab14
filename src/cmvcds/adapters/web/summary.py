"""What a clinician reads first on an assessment: what to do now, then the alerts by severity,
and the facts not yet checked against their primary source as one short statement each.

Built from the ``cmvcds-assessment/1`` document only (nothing recomputed): the regimens to give,
the critical alerts, the decisions that need a specialist or more data, and what is missing.
An ``unverified-fact`` alert's message carries the pack's research note after its first
sentence; the page shows only the first sentence (what is unverified) and links its sources,
where the note is kept (the knowledge browser).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmvcds.adapters.web.i18n import N_
from cmvcds.adapters.web.i18n import gettext as _
from cmvcds.adapters.web.texts import clinical
from cmvcds.domain.vocabulary import AlertCode, Outcome, Severity

__all__ = ["ClinicalView", "by_severity", "clinical_view", "regimen_line"]

UNVERIFIED_PREFIX = "Not yet verified against its primary source: "
ROUTE_WORDS = {
    "oral": N_("by mouth"),
    "iv": N_("intravenously"),
    "intravitreal": N_("intravitreally"),
}


@dataclass
class ClinicalView:
    todo: list[str] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    unverified: list[dict[str, Any]] = field(default_factory=list)


def by_severity(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Alerts most urgent first (critical, warning, info), in their order within a severity."""
    order = {Severity.CRITICAL.value: 0, Severity.WARNING.value: 1, Severity.INFO.value: 2}
    return sorted(alerts, key=lambda a: order.get(str(a.get("severity")), 3))


def regimen_line(regimen: dict[str, Any], today: str | None = None) -> str:
    """ "Give valganciclovir 450 mg by mouth once daily from 2026-03-06 to 2026-09-17." (in the
    page's language: the words translated, the computed dose and dates as computed). A course
    that started before ``today`` (the assessment's date) is given from today, its start named:
    a dose re-computed on a new weight is not given from the course's first day (probe8 R4)."""
    drug = clinical(regimen["drug"])
    if regimen.get("held"):
        # a held course: the hold is the instruction, the dose is for the restart (ADR 0029)
        text = _("Keep %(drug)s on hold: %(why)s.") % {
            "drug": drug,
            "why": clinical(regimen["held"]),
        }
        text += " " + _("Dose when restarted: %(drug)s") % {"drug": drug}
    else:
        text = _("Give %(drug)s") % {"drug": drug}
    if regimen.get("dose_mg") is not None:
        text += f" {regimen['dose_mg']} mg"
    amounts = []
    if regimen.get("dose_mg_per_kg") is not None:
        amounts.append(f"{regimen['dose_mg_per_kg']} mg/kg")
    if regimen.get("oral_solution_ml") is not None:
        amounts.append(_("%(ml)s mL of the oral solution") % {"ml": regimen["oral_solution_ml"]})
    if amounts:
        text += f" ({'; '.join(amounts)})"
    if regimen.get("weight_date"):
        text += " " + _("on the weight of %(date)s, %(kg)s kg") % {
            "date": regimen["weight_date"],
            "kg": regimen["weight_kg"],
        }
    route = regimen.get("route")
    if route:
        text += " " + (_(ROUTE_WORDS[route]) if route in ROUTE_WORDS else clinical(route))
    if regimen.get("schedule"):
        text += " " + clinical(regimen["schedule"])
    elif regimen.get("every_h"):
        text += " " + _("every %(hours)s h") % {"hours": regimen["every_h"]}
    start = regimen.get("start")
    if start and today and str(start) < today:
        text += " " + _("from %(date)s (course started %(start)s)") % {
            "date": today,
            "start": start,
        }
    elif start:
        text += " " + _("from %(date)s") % {"date": start}
    if regimen.get("stop"):
        text += " " + _("to %(date)s") % {"date": regimen["stop"]}
    elif regimen.get("stop_rule"):
        text += f" ({clinical(regimen['stop_rule'])})"
    return text + "."


def unverified_what(message: str) -> str:
    """The first sentence of an ``unverified-fact`` message: what is not yet verified."""
    text = message.removeprefix(UNVERIFIED_PREFIX)
    return text.split(". ", 1)[0].rstrip(".")


def _blocker(decision: dict[str, Any], doc: dict[str, Any]) -> str:
    """Why a decision waits: its reasons that name a missing item (not the findings that led
    there, which come first); else its last reason, which is the one that stopped it."""
    needed = {m.get("why") for m in doc.get("missing") or []}
    reasons = decision.get("reasons") or [""]
    blocking = [r for r in reasons if r in needed]
    return "; ".join(blocking) if blocking else reasons[-1]


def clinical_view(doc: dict[str, Any]) -> ClinicalView:
    view = ClinicalView()
    alerts = doc.get("alerts") or []
    ordered = by_severity([a for a in alerts if a.get("code") != AlertCode.UNVERIFIED_FACT.value])
    view.alerts = ordered
    for alert in ordered:
        if alert.get("severity") == Severity.CRITICAL.value:
            view.todo.append(clinical(alert["message"]))
    regimens = doc.get("regimens") or []
    today = str(doc["assessed_on"]) if doc.get("assessed_on") else None
    held = [regimen_line(r, today) for r in regimens if r.get("held")]
    view.todo[:0] = held  # a hold comes first: nothing below may read as "give it now"
    view.todo += [regimen_line(r, today) for r in regimens if not r.get("held")]
    for decision in doc.get("decisions") or []:
        outcome = decision.get("outcome")
        words = {
            "decision": clinical(str(decision.get("id", "")).replace("-", " ").capitalize()),
            "reason": clinical((decision.get("reasons") or [""])[0]),
        }
        if outcome == Outcome.SPECIALIST_REVIEW.value:
            view.todo.append(_("%(decision)s: ask a specialist — %(reason)s") % words)
        elif outcome == Outcome.EXCLUDED.value:
            view.todo.append(_("%(decision)s: excluded — %(reason)s") % words)
        elif outcome == Outcome.INSUFFICIENT_DATA.value:
            words["reason"] = clinical(_blocker(decision, doc))
            view.todo.append(_("%(decision)s: cannot be decided yet — %(reason)s") % words)
        elif outcome == Outcome.RECOMMENDED.value and not doc.get("regimens"):
            view.todo.append(_("%(decision)s: recommended — %(reason)s") % words)
    missing = [m["item"] for m in doc.get("missing") or []]
    if missing:
        view.todo.append(_("Still needed: %(items)s.") % {"items": ", ".join(missing)})
    seen: set[str] = set()
    for alert in alerts:
        if alert.get("code") == AlertCode.UNVERIFIED_FACT.value:
            what = unverified_what(alert.get("message", ""))
            if what not in seen:
                seen.add(what)
                view.unverified.append(
                    {"what": clinical(what), "citations": alert.get("citations", [])}
                )
    return view
