"""FHIR ``AllergyIntolerance`` (R4/R4B) → the case's ``patient.intolerances`` (debt22, ADR 0032).

A recorded allergy or intolerance of a drug cmvcds doses (or of one a label says matters:
probenecid and sulfa drugs for cidofovir, the ganciclovir/valganciclovir prodrug pair) must bar
that drug in every answer built from the record, exactly as a listed intolerance does
(``engine/dosing/intolerance``): before this module a patient with a recorded valganciclovir
allergy in the EHR got a valganciclovir dose card.

What is read, and why:

- ``clinicalStatus`` active only (HL7 allergyintolerance-clinical). An inactive or resolved one
  (a tolerance re-established, a desensitisation) is not used, and that is said; so is one with no
  clinical status (R4 invariant ait-1 requires it unless entered in error): a status the record
  does not give is not guessed.
- ``verificationStatus`` refuted or entered-in-error: not used (said). Unconfirmed (suspected),
  presumed, confirmed or absent: used (a suspected allergy to an antiviral is a reason for a
  specialist's look, which is what an intolerance asks for), and an unconfirmed one is said.
- ``code``: a coding of the FHIR medication value sets (RxNorm ingredient or clinical drug, SNOMED
  CT clinical drug, ATC, Italian AIC: the product rolls up to its ingredient) or of the
  co-medication catalogue (RxNorm, ATC); else the text (``code.text`` or a coding's display)
  naming known drugs as whole words (INN, catalogue alias, or a brand or class name of the pack's
  ``allergy_names``: Valcyte, Foscavir, "sulfa drugs"…), said as read from the text. A text
  naming several drugs ("ganciclovir and valganciclovir") records each of them (review12 S2:
  debt22 dropped it, asking for one resource per drug, and the dose card then offered the drug).
  Any other substance (a food, penicillin) is not a drug cmvcds reads: said, not used.
- ``type`` (allergy or intolerance), ``criticality``, ``reaction`` (manifestation, severity) are
  not read: the intolerance list does not carry severity, and whether to re-challenge or
  desensitise is a specialist's decision (``dosing_policy.intolerance``); ``reaction.substance``
  is not read either (the ``code`` names what the patient is intolerant of).

Pure functions; the caller (``mapping``) validates the resource and checks it is the patient's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cmvcds.adapters.fhir.reason import Reason
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.core import Vocabularies
from cmvcds.knowledge.schemas.fhir import FhirValueSets
from cmvcds.knowledge.schemas.medications import MedicationCatalogue

__all__ = ["AllergyLookups", "allergy_lookups", "read_allergy"]

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


@dataclass(frozen=True)
class AllergyLookups:
    """Codes and names of the drugs an intolerance may name (a valid ``patient.intolerances``)."""

    codes: dict[tuple[str, str], str]
    names: dict[str, tuple[str, ...]]
    pattern: re.Pattern[str] | None


def allergy_lookups(knowledge: Knowledge) -> AllergyLookups:
    """The lookups of ``knowledge`` (built once per pack)."""
    return knowledge.derived(_build)


def _build(knowledge: Knowledge) -> AllergyLookups:
    drugs = set(knowledge.table("vocabularies", Vocabularies).drugs)
    catalogue = knowledge.table("medications", MedicationCatalogue)
    codes: dict[tuple[str, str], str] = {
        (m.system, m.code): m.drug
        for m in knowledge.table("fhir_valuesets", FhirValueSets).medications
        if m.drug in drugs
    }
    names: dict[str, tuple[str, ...]] = {d: (d,) for d in drugs}
    for row in catalogue.medications:
        if row.rxnorm:
            codes.setdefault((RXNORM, row.rxnorm), row.drug)
        if row.atc:
            codes.setdefault((ATC, row.atc), row.drug)
        names.setdefault(row.drug, (row.drug,))
        for alias in row.aliases:
            names.setdefault(alias, (row.drug,))
    for extra in knowledge.table("fhir_valuesets", FhirValueSets).allergy_names:
        names.setdefault(extra.name, extra.drugs)
    words = {n.replace("_", " "): d for n, d in names.items()} | names
    pattern = re.compile(
        r"(?<![a-z0-9-])("
        + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        + r")(?![a-z0-9-])"
    )
    return AllergyLookups(codes, words, pattern)


def _codes(concept: Any) -> list[tuple[str, str, str]]:
    if not isinstance(concept, dict):
        return []
    return [
        (str(c.get("system", "")), str(c.get("code", "")), str(c.get("display") or ""))
        for c in concept.get("coding") or []
        if isinstance(c, dict)
    ]


def _status(concept: Any, system: str) -> set[str]:
    return {c for s, c, _ in _codes(concept) if s in (system, "")}


def read_allergy(
    name: str, resource: dict[str, Any], lookups: AllergyLookups
) -> tuple[tuple[str, ...], list[Reason]]:
    """``(drugs, notes)``: the drugs ``resource`` (``AllergyIntolerance/<id>``, named ``name``)
    records an intolerance of, or none with the sentence saying why it is not used; drugs may
    come with notes too (read from its text, unconfirmed)."""
    verification = _status(resource.get("verificationStatus"), VERIFICATION)
    refuted = verification & {"refuted", "entered-in-error"}
    if refuted:
        return (), [
            Reason(
                "%(resource)s not used: verification status %(status)s",
                resource=name,
                status=", ".join(sorted(refuted)),
            )
        ]
    clinical = _status(resource.get("clinicalStatus"), CLINICAL)
    if not clinical:
        return (), [
            Reason(
                "%(resource)s not used: it gives no clinical status (active, inactive, resolved); "
                "confirm it and record it as active if it still applies",
                resource=name,
            )
        ]
    if "active" not in clinical:
        return (), [
            Reason(
                "%(resource)s not used: clinical status %(status)s (not active)",
                resource=name,
                status=", ".join(sorted(clinical)),
            )
        ]
    concept = resource.get("code")
    codings = _codes(concept)
    coded = next((lookups.codes[(s, c)] for s, c, _ in codings if (s, c) in lookups.codes), None)
    notes: list[Reason] = []
    found: tuple[str, ...] = (coded,) if coded is not None else ()
    if coded is None:
        texts = [str((concept or {}).get("text") or ""), *(d for _, _, d in codings)]
        named = (
            [
                d
                for t in texts
                for m in lookups.pattern.finditer(t.lower())
                for d in lookups.names[m.group(1)]
            ]
            if lookups.pattern is not None
            else []
        )
        found = tuple(dict.fromkeys(named))
        shown = ", ".join(f"{s}|{c}" + (f" ({d})" if d else "") for s, c, d in codings) or repr(
            (concept or {}).get("text") or "(no code)"
        )
        if not found:
            return (), [
                Reason(
                    "%(resource)s not used: %(code)s is not a drug cmvcds doses or reads",
                    resource=name,
                    code=shown,
                )
            ]
        notes.append(
            Reason(
                "%(resource)s: %(drug)s read from the text %(text)s (no code cmvcds knows)",
                resource=name,
                drug=", ".join(found),
                text=shown,
            )
        )
    if "unconfirmed" in verification:
        notes.append(
            Reason(
                "%(resource)s: unconfirmed (suspected) intolerance of %(drug)s, used as recorded",
                resource=name,
                drug=", ".join(found),
            )
        )
    return found, notes
