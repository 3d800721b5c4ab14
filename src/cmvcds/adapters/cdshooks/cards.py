"""Cards from published JSON: pure functions, no I/O (an assessment or a dose check → cards).

Wording rules: a summary is one sentence shorter than 140 characters (cut with an ellipsis when
the data make it longer); the detail is GitHub-flavoured Markdown with the reasons, dates, doses,
missing data and the knowledge version; the source names the first citation and links to its
knowledge page; a card with a suggestion says ``at-most-one``.

Language: the cards are said in the language being rendered (``web.i18n``, set per call by the
route from ``Accept-Language`` or the site's ``cds_language``): their own words from the gettext
catalogue, the engine's texts (reasons, alerts, missing data) from the pack's
``clinical_texts_it``, the FHIR mapping's lines (``Reason``) from the catalogue. In English they
are the texts as written (the goldens of ``tests/cdshooks``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from cmvcds.adapters.cdshooks.models import (
    SUMMARY_LIMIT,
    Action,
    Card,
    Link,
    OverrideReason,
    Source,
    Suggestion,
)
from cmvcds.adapters.web.i18n import N_, current_language, said
from cmvcds.adapters.web.i18n import gettext as _
from cmvcds.adapters.web.texts import clinical
from cmvcds.domain.results import held_line

__all__ = [
    "OVERRIDE_REASONS",
    "alert_cards",
    "card_uuid",
    "decision_cards",
    "problem_card",
    "record_cards",
    "summary",
]

NAMESPACE = uuid.UUID("6f1d3c52-8f0e-4a53-9d1f-6c8b1e0f4a21")

DECISION_TITLES = {
    "valacyclovir-prevention": N_("Valacyclovir to prevent fetal CMV infection (L. 648/96)"),
    "valacyclovir-fetal-treatment": N_("Valacyclovir for fetal CMV disease"),
    "valganciclovir-congenital": N_("Valganciclovir for congenital CMV"),
    "antiviral-prophylaxis": N_("CMV antiviral prophylaxis"),
    "preemptive-therapy": N_("Pre-emptive CMV therapy"),
    "antiviral-treatment": N_("CMV antiviral treatment"),
    "resistance-genotyping": N_("CMV resistance genotyping"),
}
OUTCOME_WORDS = {
    "recommended": N_("recommended"),
    "not_indicated": N_("not indicated"),
    "excluded": N_("excluded"),
    "specialist_review": N_("specialist review needed"),
    "insufficient_data": N_("insufficient data"),
}
OUTCOME_INDICATOR: dict[str, Literal["info", "warning", "critical"]] = {
    "recommended": "info",
    "not_indicated": "info",
    "excluded": "warning",
    "specialist_review": "warning",
    "insufficient_data": "info",
}


ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#: Reasons offered when a clinician overrides a card that advises against the current therapy
#: (an alert, a dose check): HL7 v3 ActCode, ActDetectedIssueManagementCode — the value set FHIR
#: R4 binds to ``DetectedIssue.mitigation.action``; codes and displays as published in HL7
#: Terminology (THO) ValueSet v3-TherapyAppropriateManagementCode.
OVERRIDE_REASONS = (
    OverrideReason(system=ACT_CODE, code="1", display="Therapy Appropriate"),
    OverrideReason(system=ACT_CODE, code="2", display="Assessed Patient"),
)


def summary(text: str) -> str:
    """``text`` as a card summary: one line, shorter than 140 characters."""
    line = " ".join(text.split())
    if len(line) < SUMMARY_LIMIT:
        return line
    return line[: SUMMARY_LIMIT - 2].rstrip() + "…"


def card_uuid(hook_instance: str, service_id: str, key: str) -> str:
    """A stable card id: the same request gives the same ids (feedback and golden tests)."""
    return str(uuid.uuid5(NAMESPACE, f"{service_id}/{hook_instance}/{key}"))


def _source(citations: Sequence[str], base_url: str, knowledge: dict[str, str]) -> Source:
    first = citations[0] if citations else None
    label = f"cmvcds {knowledge.get('version', '')}" + (f": {first}" if first else "")
    url = f"{base_url}/knowledge/sources/{first}" if first else f"{base_url}/knowledge"
    return Source(label=label, url=url)


def _links(citations: Sequence[str], base_url: str) -> list[Link]:
    return [
        Link(
            label=_("Source: %(source)s") % {"source": c},
            url=f"{base_url}/knowledge/sources/{c}",
            type="absolute",
        )
        for c in list(citations)[:3]
    ]


def _bullets(items: Iterable[str]) -> list[str]:
    return [f"- {item}" for item in items]


def _heading(words: str) -> str:
    return f"**{_(words)}**"


def _regimen_line(g: dict[str, Any]) -> str:
    dose = f"{g['dose_mg']} mg" if g.get("dose_mg") is not None else _("dose: see the calculator")
    every = (
        " " + _("every %(hours)s h") % {"hours": g["every_h"]}
        if g.get("every_h")
        else (f" {clinical(g['schedule'])}" if g.get("schedule") else "")
    )
    stop_date = g.get("stop") or _("open")
    span = f", {g.get('start', '?')} → {stop_date}"
    stop = f" ({clinical(g['stop_rule'])})" if g.get("stop_rule") else ""
    line = f"{g['drug']} {dose}{every} {g.get('route', '')}{span}{stop}"
    if g.get("held") and current_language() != "en":
        return _("HOLD — %(held)s. Dose when restarted: %(line)s") % {
            "held": clinical(g["held"]),
            "line": line,
        }
    return held_line(g, line)


def _shown(decision: dict[str, Any], regimen: dict[str, Any]) -> bool:
    """Whether a decision's card or action lists ``regimen``: every regimen under a recommended
    decision; a held regimen (its dose is for the restart) under an excluded one (ADR 0031)."""
    outcome = decision.get("outcome")
    return outcome == "recommended" or (outcome == "excluded" and bool(regimen.get("held")))


def decision_cards(
    doc: dict[str, Any],
    *,
    base_url: str,
    service_id: str,
    hook_instance: str,
    decision_ids: Iterable[str] | None = None,
    unmapped: Sequence[str] = (),
    suggestion: dict[str, Any] | None = None,
) -> list[Card]:
    """One card per decision of the assessment (those of ``decision_ids`` when given)."""
    wanted = set(decision_ids) if decision_ids is not None else None
    cards = []
    findings = doc.get("findings") or {}
    for d in doc.get("decisions", []):
        if wanted is not None and d["id"] not in wanted:
            continue
        title = _(DECISION_TITLES[d["id"]]) if d["id"] in DECISION_TITLES else d["id"]
        outcome = OUTCOME_WORDS.get(d["outcome"])
        words = [f"{title}: {_(outcome) if outcome else d['outcome']}"]
        if findings.get("gestational_age"):
            words.append(_("GA %(ga)s") % {"ga": findings["gestational_age"]})
        amnio = next(
            (s for s in doc.get("schedule", []) if s.get("event") == "amniocentesis"), None
        )
        if amnio and d["outcome"] == "recommended":
            words.append(_("amniocentesis from %(date)s") % {"date": amnio["earliest"]})
        lines = [_heading(N_("Why")), *_bullets(clinical(r) for r in d.get("reasons", []))]
        # a held course's decision is excluded (ADR 0031): its card still shows the hold first
        regimens = [g for g in doc.get("regimens", []) if _shown(d, g)]
        if regimens:
            lines += ["", _heading(N_("Regimen")), *_bullets(_regimen_line(g) for g in regimens)]
        dates = [
            s
            for s in doc.get("schedule", [])
            if s.get("event") in ("amniocentesis", "stop-valacyclovir")
        ]
        if dates:
            lines += [
                "",
                _heading(N_("Dates")),
                *_bullets(
                    _("%(event)s: from %(date)s")
                    % {"event": _event(s["event"]), "date": s["earliest"]}
                    for s in dates
                ),
            ]
        if doc.get("missing"):
            lines += [
                "",
                _heading(N_("Missing data")),
                *_bullets(f"{m['item']}: {clinical(m['why'])}" for m in doc["missing"]),
            ]
        unverified = [a for a in doc.get("alerts", []) if a.get("code") == "unverified-fact"]
        if unverified:
            lines += [
                "",
                _("%(n)s fact(s) used are not yet verified against their primary source.")
                % {"n": len(unverified)},
            ]
        if unmapped:
            lines += [
                "",
                _heading(N_("Not read from the record")),
                *_bullets(said(u) for u in unmapped[:10]),
            ]
        knowledge = doc.get("knowledge") or {}
        lines += [
            "",
            _("Knowledge %(version)s; sources: %(sources)s.")
            % {
                "version": knowledge.get("version", "?"),
                "sources": ", ".join(d.get("citations", [])),
            },
        ]
        card = Card(
            uuid=card_uuid(hook_instance, service_id, d["id"]),
            summary=summary("; ".join(words) + "."),
            detail="\n".join(lines),
            indicator=OUTCOME_INDICATOR.get(d["outcome"], "info"),
            source=_source(d.get("citations", []), base_url, knowledge),
            links=_links(d.get("citations", []), base_url),
        )
        if suggestion is not None and d["outcome"] == "recommended":
            card.suggestions = [
                Suggestion(
                    label=suggestion["label"],
                    uuid=card_uuid(hook_instance, service_id, f"{d['id']}/suggestion"),
                    isRecommended=True,
                    actions=[
                        Action(
                            type="create",
                            description=suggestion["label"],
                            resource=suggestion["resource"],
                        )
                    ],
                )
            ]
            card.selectionBehavior = "at-most-one"
        cards.append(card)
    return cards


def _event(event: str) -> str:
    """A schedule event's name (``stop-valacyclovir``) in the language being rendered."""
    if current_language() == "en":
        return event
    return clinical(event.replace("-", " "))


def alert_cards(
    doc: dict[str, Any],
    *,
    base_url: str,
    service_id: str,
    hook_instance: str,
    codes: Iterable[str],
    severities: Iterable[str] = ("warning", "critical"),
) -> list[Card]:
    """One card per alert whose code is in ``codes`` and severity in ``severities``."""
    wanted, levels = set(codes), set(severities)
    knowledge = doc.get("knowledge") or {}
    cards = []
    for i, a in enumerate(doc.get("alerts", [])):
        if a.get("code") not in wanted or a.get("severity") not in levels:
            continue
        citations = a.get("citations", [])
        cards.append(
            Card(
                uuid=card_uuid(hook_instance, service_id, f"alert/{i}/{a['code']}"),
                summary=summary(clinical(a["message"])),
                detail=clinical(a["message"])
                + "\n\n"
                + _("Alert `%(code)s`; knowledge %(version)s; sources: %(sources)s.")
                % {
                    "code": a["code"],
                    "version": knowledge.get("version", "?"),
                    "sources": ", ".join(citations) or _("none"),
                },
                indicator=a["severity"],
                source=_source(citations, base_url, knowledge),
                links=_links(citations, base_url),
                overrideReasons=list(OVERRIDE_REASONS),
            )
        )
    return cards


def problem_card(
    title: str,
    problems: Sequence[str],
    *,
    base_url: str,
    service_id: str,
    hook_instance: str,
    version: str,
) -> Card:
    """The card shown when the record cannot be assessed (the parser's messages, listed)."""
    return Card(
        uuid=card_uuid(hook_instance, service_id, "problems"),
        summary=summary(
            _("%(title)s: %(n)s problem(s) in the record; see details.")
            % {"title": _(title), "n": len(problems)}
        ),
        detail="\n".join([_heading(N_("Problems")), *_bullets(said(p) for p in problems[:20])]),
        indicator="warning",
        source=Source(label=f"cmvcds {version}", url=f"{base_url}/knowledge"),
    )


def record_cards(
    title: str,
    *,
    ignored: Sequence[str],
    notes: Sequence[str],
    base_url: str,
    service_id: str,
    hook_instance: str,
    version: str,
    foreign: Sequence[str] = (),
) -> list[Card]:
    """What the service did not read from the record, and what it assumed while reading it.

    ``foreign`` (resources of another patient than ``context.patientId``, or naming none) is a
    warning of its own: the advice was given without them, and the EHR's query or prefetch
    should be checked. ``ignored`` (invalid resources, pages not read, results or orders it
    cannot map) is a warning: the advice on the other cards was given without them. ``notes``
    (an inferred indication, administrations joined into a course) is information. Nothing is
    dropped without a word.
    """
    source = Source(label=f"cmvcds {version}", url=f"{base_url}/knowledge")

    def left_out(key: str, text: str, why: str, heading: str, items: Sequence[str]) -> Card:
        return Card(
            uuid=card_uuid(hook_instance, service_id, key),
            summary=summary(
                _("%(title)s: %(n)s %(what)s; see details.")
                % {"title": _(title), "n": len(items), "what": _(text)}
            ),
            detail="\n".join(
                [
                    _(why),
                    "",
                    _heading(heading),
                    *_bullets(said(item) for item in items[:20]),
                    *(
                        ["- " + _("… and %(n)s more") % {"n": len(items) - 20}]
                        if len(items) > 20
                        else []
                    ),
                    "",
                    _("Knowledge %(version)s.") % {"version": version},
                ]
            ),
            indicator="warning",
            source=source,
        )

    cards = []
    if foreign:
        cards.append(
            left_out(
                "record/foreign",
                N_("resource(s) not of this patient were not used"),
                N_(
                    "These resources do not belong to the patient in context (context.patientId), "
                    "or name no patient. The other cards were computed without them; check how the "
                    "record was queried."
                ),
                N_("Not this patient's"),
                foreign,
            )
        )
    if ignored:
        cards.append(
            left_out(
                "record/ignored",
                N_("item(s) of the record ignored or not read"),
                N_("The other cards were computed without these items; check them in the record."),
                N_("Ignored or not read"),
                ignored,
            )
        )
    if notes:
        cards.append(
            Card(
                uuid=card_uuid(hook_instance, service_id, "record/notes"),
                summary=summary(
                    _("%(title)s: read with %(n)s assumption(s); see details.")
                    % {"title": _(title), "n": len(notes)}
                ),
                detail="\n".join(
                    [
                        _heading(N_("Assumptions made while reading the record")),
                        *_bullets(said(n) for n in notes[:20]),
                    ]
                ),
                indicator="info",
                source=source,
            )
        )
    return cards
