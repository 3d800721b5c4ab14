"""Reading one laboratory result as a laboratory means it (issue 16 item 3).

Pure helpers of the FHIR adapter: a number, the specimen an Observation names, a CMV DNA result
written as text ("<35", "detected <LLOQ", "non rilevato"), an avidity from the laboratory's own
cut-offs (``referenceRange`` bands) or flag, and the v3 interpretation flags of serology. A value
"< LLOQ" is ``below_lloq`` (not detected, or detected below the LLOQ) — never "detected".
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from cmvcds.adapters.fhir.reason import Reason

__all__ = [
    "AVIDITY_FLAGS",
    "SEROLOGY_FLAGS",
    "UCUM",
    "V3_INTERPRETATION",
    "avidity",
    "dna_text",
    "number",
    "plain_number",
    "specimen",
]


def number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def plain_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
UCUM = "http://unitsofmeasure.org"
SEROLOGY_FLAGS = {
    "POS": "positive",
    "NEG": "negative",
    "IND": "equivocal",
    "A": "positive",
    "AA": "positive",
    "H": "positive",
    "HH": "positive",
    "N": "negative",
    "L": "negative",
}
AVIDITY_FLAGS = {"L": "low", "H": "high", "N": "high", "I": "intermediate"}
_BANDS = (
    ("intermediate", ("intermediate", "intermedia", "borderline", "equivocal")),
    ("low", ("low", "bassa")),
    ("high", ("high", "alta")),
)
_SPECIMENS = (
    ("whole_blood", ("whole blood", "sangue intero", "edta blood")),
    ("plasma", ("plasma", "serum", "siero")),
    ("urine", ("urine", "urina")),
    ("saliva", ("saliva",)),
    ("amniotic_fluid", ("amniotic", "liquido amniotico")),
    ("csf", ("cerebrospinal", "csf", "liquor")),
)


def specimen(resource: dict[str, Any]) -> str | None:
    """The case specimen an Observation's ``specimen`` reference names in its display."""
    text = str((resource.get("specimen") or {}).get("display") or "").lower()
    if not text:  # most results name none: no word of _SPECIMENS is empty
        return None
    return next((s for s, words in _SPECIMENS if any(w in text for w in words)), None)


def dna_text(text: str) -> str | None:
    """A CMV DNA result written as text: "<35", "< 35 UI/mL", "detected <LLOQ", "non rilevato"."""
    t = " ".join(text.lower().replace(",", ".").split())
    below = (
        t.startswith("<")
        or "lloq" in t
        or "below" in t
        or "inferiore" in t
        or "non quantificabile" in t
    )
    negative = any(
        w in t for w in ("not detected", "non rilevat", "assente", "negativ", "undetected")
    )
    detected = any(w in t for w in ("detected", "rilevat", "presente", "positiv"))
    if negative:
        return "not_detected"
    if detected and below:
        return "detected_below_lloq"
    if below:
        return "below_lloq"  # "<35": not detected or below the LLOQ
    if detected:
        return "detected"
    return None


def avidity(resource: dict[str, Any], flagged: str | None) -> dict[str, Any] | str:
    """Avidity as the laboratory's category: from a coded/text result, from the band of its own
    ``referenceRange`` cut-offs that holds the ratio or index (bands named in their text, or
    one numeric range read as the grey zone: ``_cut_offs``), or from its L/H flag; a value
    without any of them is refused with why (cut-offs are the assay's own, none is assumed)."""
    quantity = resource.get("valueQuantity") or {}
    value = number(quantity.get("value"))
    text = str(
        (resource.get("valueCodeableConcept") or {}).get("text")
        or resource.get("valueString")
        or ""
    ).lower()
    for word, names in _BANDS:
        if text and any(n in text for n in names):
            return {"result": word}
    if value is not None and not quantity.get("comparator"):
        for band in resource.get("referenceRange") or []:
            low, high = (
                number((band.get("low") or {}).get("value")),
                number((band.get("high") or {}).get("value")),
            )
            label = str(band.get("text") or "").lower()
            band_word = next((w for w, names in _BANDS if any(n in label for n in names)), None)
            if band_word and (low is None or value >= low) and (high is None or value < high):
                return {"result": band_word}
        banded = _cut_offs(value, resource.get("referenceRange") or [])
        if banded is not None:
            return {"result": banded}
    if flagged:
        return {"result": flagged}
    if value is not None and str(quantity.get("code") or quantity.get("unit")) == "%":
        # probe14 F4: a % without the laboratory's category or cut-offs was passed on and then
        # dropped ("without IgG avidity"); avidity cut-offs are the assay's own: refused, said
        return Reason(
            "is %(value)s %% without the laboratory's category (low/intermediate/high), its L/H "
            "flag or its cut-offs in referenceRange: avidity cut-offs are assay-specific, none "
            "is assumed",
            value=plain_number(value),
        )
    return Reason(
        "needs the laboratory's category (low/intermediate/high) or its cut-offs in referenceRange"
    )


def _cut_offs(value: Any, ranges: list[Any]) -> str | None:
    """The band of an avidity from the laboratory's one numeric ``referenceRange`` without text
    (probe14 F5: low 0.30, high 0.45): read as its grey zone, as avidity reports give it —
    below ``low`` low avidity, above ``high`` high, from ``low`` to ``high`` inclusive
    intermediate. Anything else (several ranges, one bound only, a text) is not read here."""
    if len(ranges) != 1 or not isinstance(ranges[0], dict) or ranges[0].get("text"):
        return None
    low = number((ranges[0].get("low") or {}).get("value"))
    high = number((ranges[0].get("high") or {}).get("value"))
    if low is None or high is None or not low < high:
        return None
    if value < low:
        return "low"
    return "high" if value > high else "intermediate"
