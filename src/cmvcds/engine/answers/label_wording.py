"""A drug label's regimen in words, in English or Italian, for the generated ``drug-*`` statements.

The numbers (a dose, an interval, a renal band) come from the drug tables and are written the same
in both languages; the label's own sentences (a regimen's description and duration, a check, an
interaction, a refusal's reason) are English in the tables, and their Italian is the exact row of
the pack's ``clinical_texts_it`` table (machine-drafted, pending review). A sentence without its
Italian row makes the Italian of the whole statement ``None``: the English is then shown, never a
half-translated sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from cmvcds.knowledge import Knowledge

if TYPE_CHECKING:  # the drug schemas are built only when a label is read
    from cmvcds.knowledge.schemas.drugs import Band, RegimenRow

__all__ = [
    "band_result",
    "band_wording",
    "dose_wording",
    "italian_texts",
    "limits",
    "number",
    "refusal",
    "region",
]

_WORDS = {
    "en": {
        "every": "every",
        "day": "day",
        "weekly": " (once weekly)",
        "weeks": " (every {n} weeks)",
        "days": " (every {n} days)",
        "on": "on ",
        "or": " or ",
        "and": " and ",
        "any": "any renal function",
        "from_years": "from {n} years",
        "from_months": "from {n} months",
        "to_years": "to {n} years",
        "kg": "at least {n} kg",
        "through": "through day {n} after transplant",
        "excluded": "not recommended",
        "not_indicated": "not indicated",
        "specialist_review": "specialist review",
    },
    "it": {
        "every": "ogni",
        "day": "die",
        "weekly": " (una volta alla settimana)",
        "weeks": " (ogni {n} settimane)",
        "days": " (ogni {n} giorni)",
        "on": "in ",
        "or": " o ",
        "and": " e ",
        "any": "qualsiasi funzione renale",
        "from_years": "da {n} anni",
        "from_months": "da {n} mesi",
        "to_years": "fino a {n} anni",
        "kg": "almeno {n} kg",
        "through": "fino al giorno {n} dopo il trapianto",
        "excluded": "sconsigliato",
        "not_indicated": "non indicato",
        "specialist_review": "valutazione specialistica",
    },
}
_REGIONS_IT = {"us": "USA", "eu": "UE"}


def italian_texts(knowledge: Knowledge) -> Mapping[str, str]:
    """English sentence → Italian, the exact (placeholder-free) rows of ``clinical_texts_it``
    (read when the index is built; the engine keeps the mapping in its cached index)."""
    if "clinical_texts_it" not in knowledge.tables:
        return {}
    from cmvcds.knowledge.schemas.translations import PLACEHOLDER, TranslationTable

    table = knowledge.table("clinical_texts_it", TranslationTable)
    return {row.en: row.it for row in table.rows if not PLACEHOLDER.search(row.en)}


def number(value: Decimal | Fraction | int | float) -> str:
    """``900``, ``2.5``, ``0.625``: no trailing zeros, no exponent."""
    decimal = Decimal(str(float(value))) if isinstance(value, Fraction | float) else Decimal(value)
    return format(decimal.normalize(), "f")


def dose_wording(
    band: Band, lang: str = "en", texts: Mapping[str, str] | None = None
) -> str | None:
    """``450 mg every 12 h``, ``2.5 mg/kg every 24 h``, ``450 mg twice weekly`` (Italian: ``450 mg
    ogni 12 h``); None when a schedule has no Italian."""
    words = _WORDS[lang]
    amount = (
        f"{number(band.dose_mg)} mg"
        if band.dose_mg is not None
        else f"{number(band.dose_mg_per_kg or 0)} mg/kg"
    )
    if band.every_h is not None:
        timing = f"{words['every']} {number(band.every_h)} h{_in_days(band.every_h, lang)}"
        if band.dose_mg is not None and band.every_h < 24:
            timing += f" ({number(band.dose_mg * 24 / band.every_h)} mg/{words['day']})"
    else:
        found = _text(band.schedule or "", lang, texts)
        if found is None:
            return None
        timing = found
    return f"{amount} {timing}".strip()


def _in_days(hours: Decimal, lang: str) -> str:
    """`` (every 2 weeks)`` for 336 h, `` (every 2 days)`` for 48 h; nothing up to a day."""
    if hours <= 24 or hours % 24:
        return ""
    days = int(hours // 24)
    words = _WORDS[lang]
    if days % 7 == 0:
        weeks = days // 7
        return words["weekly"] if weeks == 1 else words["weeks"].format(n=weeks)
    return words["days"].format(n=days)


def band_wording(
    band: Band, lang: str = "en", texts: Mapping[str, str] | None = None, unit: str = ""
) -> str | None:
    """``CrCl ≥ 40 and < 60``, ``on hemodialysis`` (Italian: ``CrCl ≥ 40 e < 60``, ``in emodialisi``);
    ``unit`` follows the limits when the table's measure is not mL/min (foscarnet:
    ``CrCl > 1.0 and ≤ 1.4 mL/min/kg``); a band of one value reads ``CrCl = 0.4`` (probe10 R2)."""
    words = _WORDS[lang]
    if band.dialysis:
        names = [_text(d, lang, texts) for d in band.dialysis]
        if any(n is None for n in names):
            return None
        return words["on"] + words["or"].join(str(n) for n in names)
    single = band.at_least is not None and band.at_least == band.at_most
    wording = f"CrCl = {band.at_least}" if single else band.wording("CrCl")
    if unit and wording != "any renal function":
        wording += f" {unit}"
    if lang == "en":
        return wording
    return words["any"] if wording == "any renal function" else wording.replace(" and ", " e ")


def refusal(outcome: str, lang: str = "en") -> str:
    """``not recommended``, ``not indicated``, ``specialist review`` (or their Italian)."""
    return _WORDS[lang][outcome]


def band_result(band: Band, lang: str = "en", texts: Mapping[str, str] | None = None) -> str | None:
    if band.refuse is not None:
        return refusal(band.refuse, lang)
    return dose_wording(band, lang, texts)


def limits(row: RegimenRow, lang: str = "en") -> str:
    """`` (from 12 years and at least 35 kg; through day 100 after transplant)``, or nothing."""
    words = _WORDS[lang]
    parts = []
    ages = []
    if row.min_age_years is not None:
        ages.append(words["from_years"].format(n=number(row.min_age_years)))
    elif row.min_age_months is not None:
        ages.append(words["from_months"].format(n=row.min_age_months))
    if row.max_age_years is not None:
        ages.append(words["to_years"].format(n=number(row.max_age_years)))
    if row.min_weight_kg is not None:
        ages.append(words["kg"].format(n=number(row.min_weight_kg)))
    if ages:
        parts.append(words["and"].join(ages))
    if row.until_post_transplant_day is not None:
        parts.append(words["through"].format(n=row.until_post_transplant_day))
    return f" ({'; '.join(parts)})" if parts else ""


def region(row: RegimenRow, lang: str = "en") -> str:
    """`` (US)``, `` (EU)`` for a regimen of one region only (Italian: `` (USA)``, `` (UE)``)."""
    if set(row.regions) == {"us", "eu"}:
        return ""
    names = [r.upper() if lang == "en" else _REGIONS_IT.get(r, r.upper()) for r in row.regions]
    return f" ({'/'.join(names)})"


def _text(english: str, lang: str, texts: Mapping[str, str] | None) -> str | None:
    if lang == "en" or not english:
        return english
    return (texts or {}).get(english)
