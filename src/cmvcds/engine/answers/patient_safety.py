"""What a patient is never told (README: "a patient who asks for a dose is told who decides it,
never given one"), and which questions are not answered at all.

``carries_dose`` is the one test every patient answer passes (``compose``): a sentence with an
amount of medicine (mg, mg/kg, g, mL, a tablet count) or a dosing schedule (every 12 h, twice
daily, ogni 6 ore) is left out of a patient answer, whatever produced it (a written statement, a
table, the patient's own assessment). Laboratory values (creatinine in mg/dL, CrCl in mL/min,
viral load in IU/mL) and durations (200 days, 6 months) are not doses.

``asks_for_dose`` recognises a patient asking how much to take ("how many tablets", "quante
compresse", "can I double my dose"); ``unsafe_request`` a request to obtain or use a medicine
outside medical care ("without a prescription", "senza ricetta", "buy online"), which is
refused, not answered.
"""

from __future__ import annotations

import re

__all__ = ["asks_for_dose", "carries_dose", "unsafe_request"]

_NUMBER = r"\d+(?:[.,]\d+)?(?:\s*(?:–|-|to|a)\s*\d+(?:[.,]\d+)?)?"
#: An amount of medicine: 450 mg, 5 mg/kg, 2 g, 1 L, 100 mL, 60 mg/kg/day (not mg/dL, mL/min,
#: IU/mL, mg/L: those are laboratory values).
_AMOUNT = re.compile(
    _NUMBER
    + r"\s*(?:mg|mcg|µg|ug|g|gr|grams?|grammi|ml|l|litres?|liters?|litri|litro)"
    + r"(?![a-z0-9µ])(?!\s*/\s*(?:dl|l|min|ml|h\b|ora))",
    re.IGNORECASE,
)
#: A count of dosage units: 2 tablets, una compressa, two capsules.
_UNITS = re.compile(
    r"(?<![a-z])(?:\d+|one|two|three|four|half|a|an|una|uno|due|tre|quattro|mezza)\s+"
    r"(?:x\s+)?(?:\d+\s*mg\s+)?(?:tablets?|pills?|capsules?|compress[ae]|pastigli[ae]|capsul[ae]"
    r"|vials?|fial[ae]|sachets?|bustin[ae]|packets?)(?![a-z])",
    re.IGNORECASE,
)
#: A dosing schedule: every 12 h, q12h, once daily, twice a day, ogni 6 ore, due volte al giorno.
_SCHEDULE = re.compile(
    r"(?<![a-z])(?:every\s+\d+\s*(?:h|hours?)(?![a-z])|q\s?\d+\s?h(?![a-z])"
    r"|ogni\s+\d+\s*(?:h|ore)(?![a-z])"
    r"|(?:once|twice|three times|four times|\d+\s+times)\s+(?:a\s+|per\s+)?(?:daily|day|week|weekly)"
    r"|(?:una|due|tre|quattro|\d+)\s+volt[ae]\s+(?:al\s+giorno|alla\s+settimana|die)"
    r"|mg\s*/\s*(?:day|die|giorno)|/\s*kg\s*/\s*(?:day|die|giorno))",
    re.IGNORECASE,
)


def carries_dose(text: str) -> bool:
    """Whether ``text`` states an amount of medicine, a count of tablets or a dosing schedule."""
    return bool(_AMOUNT.search(text) or _UNITS.search(text) or _SCHEDULE.search(text))


#: A question for the amount to take, on normalised text (lower case, no accents).
_DOSE_QUESTION = re.compile(
    r"(?<![a-z])(?:how many\b.*\b(?:tablets?|pills?|capsules?|mg|milligrams?|grams?|doses?|sachets?|ml)"
    r"|how much\b.*\b(?:take|give|have|use|valganciclovir|ganciclovir|valacyclovir|valaciclovir"
    r"|letermovir|maribavir|foscarnet|cidofovir|acyclovir|aciclovir|medicine|drug)"
    r"|what (?:dose|amount)|which dose|my dose|the dose (?:i|my|for me)|double (?:my|the|a) dose"
    r"|(?:take|have) (?:a |an )?(?:extra|double|bigger|smaller|higher|lower) dose"
    r"|quant[ei] (?:compresse|pastiglie|capsule|pillole|mg|milligrammi|grammi|dosi|bustine|ml)"
    r"|(?<!per )quanto (?:ne |lo |la )?(?:devo|posso|dovrei|prendere|assumere|dare)"
    r"|(?<!per )quanto (?!tempo)(?:\w+ ){0,4}(?:prendere|assumere|dare)\b|che dose|quale dose (?:devo|prendo|mi)"
    r"|la mia dose|raddoppiare (?:la )?dose|dose doppia)(?![a-z])"
)


def asks_for_dose(normalised_question: str) -> bool:
    """A patient's question for how much to take (``normalise``d text)."""
    return bool(_DOSE_QUESTION.search(normalised_question))


#: A request to get or use a medicine outside medical care (normalised text).
_UNSAFE = re.compile(
    r"(?<![a-z])(?:without (?:a |any )?(?:prescription|doctor|physician|medical supervision)"
    r"|no prescription|over the counter|buy\b.*\bonline|order\b.*\bonline|online\b.*\bbuy"
    r"|black market|self[- ]?(?:medicate|prescribe|treat)"
    r"|senza (?:la |una )?(?:ricetta|prescrizione|medico)|comprar\w*\b.*\b(?:online|internet|in rete)"
    r"|acquistar\w*\b.*\b(?:online|internet|in rete)|ordinar\w*\b.*\b(?:online|internet)"
    r"|mercato nero|automedicazione|fai da te)(?![a-z])"
)


def unsafe_request(normalised_question: str) -> bool:
    """A request to obtain or use a CMV antiviral outside medical care (``normalise``d text)."""
    return bool(_UNSAFE.search(normalised_question))
