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

__all__ = ["asks_for_dose", "carries_dose", "stops_on_own", "unsafe_request"]

_NUMBER = (
    r"(?:\d+(?:[.,]\d+)?\s*½|\d+(?:[.,]\d+)?|½)(?:\s*(?:–|-|to|a)\s*\d+(?:[.,]\d+)?)?"
)
#: An amount of medicine: 450 mg, 5 mg/kg, 2 g, 1 L, 100 mL, 5 cc, 900 milligrams, 450 milligrammi,
#: 60 mg/kg/day (not mg/dL, mL/min, IU/mL, mg/L: those are laboratory values).
_AMOUNT = re.compile(
    _NUMBER
    + r"\s*-?\s*(?:mg|mcg|µg|ug|g|gr|grams?|grammi|grammo|milligrams?|milligrammi|milligrammo"
    + r"|micrograms?|microgrammi|ml|cc|l|litres?|liters?|litri|litro|millilitres?|milliliters?"
    + r"|millilitri|millilitro)"
    + r"(?![a-z0-9µ])(?!\s*/\s*(?:dl|l|min|ml|h\b|ora))",
    re.IGNORECASE,
)
#: A count of dosage units: 2 tablets, una compressa, two 450-mg tablets, 1½ tablets, 2 cpr da 450.
_UNITS = re.compile(
    r"(?:(?<![a-z])(?:one|two|three|four|half|a|an|una|uno|due|tre|quattro|mezza)|\d+\s*½|\d+|½)\s+"
    r"(?:x\s+)?(?:\d+\s*-?\s*mg\s+)?(?:tablets?|tabs?|pills?|capsules?|caps|compress[ae]|cpr|cp"
    r"|pastigli[ae]|capsul[ae]|vials?|fial[ae]|sachets?|bustin[ae]|packets?|spoons?|teaspoons?"
    r"|cucchiain[oi]|misurin[oi])(?![a-z])",
    re.IGNORECASE,
)
#: A dosing schedule: every 12 h, q12h, once daily, twice a day, every other day, ogni 6 ore,
#: ogni 2 giorni, due volte al giorno, a giorni alterni.
_SCHEDULE = re.compile(
    r"(?<![a-z])(?:every\s+\d+\s*(?:h|hours?|days?)(?![a-z])|q\s?\d+\s?h(?![a-z])"
    r"|every\s+(?:other|second|third)\s+day|alternate\s+days|on\s+alternate\s+days"
    r"|ogni\s+\d+\s*(?:h|ore|giorni)(?![a-z])|ogni\s+(?:due|tre)\s+giorni|a\s+giorni\s+alterni"
    r"|(?:once|twice|three times|four times|\d+\s+times)\s+(?:a\s+|per\s+|every\s+)?"
    r"(?:daily|day|week|weekly|other\s+day)"
    r"|(?:una|due|tre|quattro|\d+)\s+volt[ae]\s+(?:al\s+giorno|alla\s+settimana|die)"
    r"|mg\s*/\s*(?:day|die|giorno)|/\s*kg\s*/\s*(?:day|die|giorno))",
    re.IGNORECASE,
)


def carries_dose(text: str) -> bool:
    """Whether ``text`` states an amount of medicine, a count of tablets or a dosing schedule."""
    return bool(_AMOUNT.search(text) or _UNITS.search(text) or _SCHEDULE.search(text))


#: A question for the amount to take or how often, on normalised text (lower case, no accents).
_DOSE_QUESTION = re.compile(
    r"(?<![a-z])(?:how many\b.*\b(?:tablets?|pills?|capsules?|mg|milligrams?|grams?|doses?|sachets?|ml"
    r"|times)"
    r"|how much\b.*\b(?:take|give|have|use|valganciclovir|ganciclovir|valacyclovir|valaciclovir"
    r"|letermovir|maribavir|foscarnet|cidofovir|acyclovir|aciclovir|medicine|drug|syrup|solution)"
    r"|how often (?:do|should|must|can|shall|will|would|to)\b|how often (?:is|are) (?:it|they) taken"
    r"|how frequently"
    r"|what (?:dose|amount)|which dose|my dose|the dose (?:i|my|for me)|double (?:my|the|a) dose"
    r"|(?:take|have) (?:a |an )?(?:extra|double|bigger|smaller|higher|lower) dose"
    r"|quant[ei] (?:compresse|pastiglie|capsule|pillole|mg|milligrammi|grammi|dosi|bustine|ml|volte)"
    r"|quant[oa] (?:sciroppo|soluzione|sospensione|farmaco|medicina)"
    r"|ogni quant[ei] (?:ore|giorni)|(?:con )?che frequenza"
    r"|(?<!per )quanto (?:ne |lo |la |gli |le )?(?:devo|posso|dovrei|prendere|assumere|dare|do)\b"
    r"|(?<!per )quanto (?!tempo)(?:\w+ ){0,4}(?:prendere|assumere|dare|do|gli do|le do)\b"
    r"|che dose|quale dose (?:devo|prendo|mi|gli|le)"
    r"|la mia dose|raddoppiare (?:la )?dose|dose doppia)(?![a-z])"
)


def asks_for_dose(normalised_question: str) -> bool:
    """A patient's question for how much to take (``normalise``d text)."""
    return bool(_DOSE_QUESTION.search(normalised_question))


#: A medicine (or a word for it) in a question, normalised.
_DRUG = (
    r"(?:valganciclovir|ganciclovir|valacyclovir|valaciclovir|letermovir|maribavir|foscarnet"
    r"|cidofovir|acyclovir|aciclovir|valcyte|prevymis|livtencity|cytovene|it|them|this|these"
    r"|medicines?|medications?|drugs?|pills?|tablets?|capsules?|antivirals?|farmac[oi]|medicin[ae]"
    r"|compresse|pastiglie)"
)
#: A request to get or use a medicine outside medical care (normalised text): without a
#: prescription or a doctor, bought or ordered online, over the counter or on the black market.
_UNSAFE = re.compile(
    r"(?<![a-z])(?:without (?:a |any |the )?(?:prescription|doctor|physician|medical supervision)"
    r"|no prescription|black market|self[- ]?(?:medicate|prescribe|treat)"
    rf"|(?:buy|order|purchase|get|obtain)\b(?: \w+){{0,3}} {_DRUG}\b.*\b(?:online|on the internet"
    r"|from the internet|over the counter|from a website|without)"
    r"|(?:buy|get|obtain|purchase)\b.*\bover the counter|online\b.*\bbuy"
    r"|senza (?:la |una |alcuna )?(?:ricetta|prescrizione|medico)"
    rf"|(?:comprar|acquistar|ordinar|procurar)\w*\b(?: \w+){{0,3}} {_DRUG}\b.*\b(?:online|internet"
    r"|in rete|da banco|sito)"
    r"|(?:comprar|acquistar|ordinar|procurar)\w* (?:lo|la|li|le|ne)?\s?(?:online|su internet|in rete)"
    r"|mercato nero|automedicazione|fai da te)(?![a-z])"
)
#: Getting a medicine (a stop-on-own question that also asks this is still a request).
_OBTAIN = re.compile(r"(?<![a-z])(?:buy|order|purchase|get|obtain|compr|acquist|ordin|procur)")
#: Someone else's medicine: "my husband's valganciclovir", "il valganciclovir di mia madre".
_OTHERS = re.compile(
    r"(?<![a-z])(?:(?:husband|wife|friend|mother|father|mom|mum|dad|partner|brother|sister"
    r"|neighbou?r|son|daughter|parent|relative|roommate|someone else|somebody else|another person"
    rf"|other person|else) s (?:\w+ ){{0,2}}?(?:{_DRUG}|prescription)"
    rf"|{_DRUG} (?:\w+ ){{0,2}}?(?:from|of) (?:a |my |another |someone |somebody )"
    r"(?:friend|relative|neighbou?r|else)"
    rf"|{_DRUG} (?:\w+ ){{0,2}}?(?:di|del|della|dello) (?:mia |mio |un |una |un altr\w |altri)?"
    r"(?:madre|padre|mamma|papa|amic[oa]|marito|moglie|fratello|sorella|vicin[oa]|parente"
    r"|altr[oa] (?:persona|paziente)|un altro|un altra|altri))(?![a-z])"
)
#: A question that mentions a prescription it has, or asks whether a medicine is available or
#: needs a prescription: answered, not refused.
_INNOCENT = re.compile(
    r"(?<![a-z])(?:with (?:my|a|the|our|his|her|their|a valid) (?:\w+ )?prescription"
    r"|(?:is|are) (?:\w+ ){1,3}(?:available|sold|on sale|prescription[- ]only)"
    r"|(?:need|require|requires|needs) (?:a |any )?prescription"
    r"|con (?:la |una |mia |la mia |regolare )?(?:ricetta|prescrizione)"
    r"|si vende|venduto|vendut[aie]|in vendita|disponibile|si trova"
    r"|(?:serve|servono|ci vuole|occorre|bisogna avere) (?:la |una )?(?:ricetta|prescrizione)"
    r"|da banco\b(?! \w*(?:comprar|acquistar)))(?![a-z])"
)


def unsafe_request(normalised_question: str) -> bool:
    """A request to obtain or use a CMV antiviral outside medical care (``normalise``d text):
    without a prescription, from an unofficial source, someone else's medicine. A question that
    has its prescription, asks about availability or about something else is not one."""
    if _OTHERS.search(normalised_question):
        return True
    if stops_on_own(normalised_question) and not _OBTAIN.search(normalised_question):
        return False  # "stop it without a doctor" is answered (do not), not refused
    return bool(_UNSAFE.search(normalised_question)) and not _INNOCENT.search(normalised_question)


#: Stopping or changing a medicine on one's own (normalised text).
_STOP_ON_OWN = re.compile(
    r"(?<![a-z])(?:(?:stop|quit|interrupt|discontinue|skip|pause|change|reduce|lower|cut|switch)"
    r"\w*\b.*\b(?:without (?:asking|telling|talking|consulting|checking|seeing"
    r"|(?:my|a|the|any) (?:doctor|physician|prescriber|care team))"
    r"|on my own|by myself|myself)"
    r"|(?:smett\w*|interromp\w*|sospend\w*|cambi\w*|ridur\w*|modific\w*|saltar\w*)\b.*\b"
    r"(?:senza (?:chieder\w*|dirl\w*|sentire|parlar\w*|consultar\w*|(?:il |al |dal )?medico)"
    r"|da sol[oa]|di testa mia)"
    r")(?![a-z])"
)


def stops_on_own(normalised_question: str) -> bool:
    """A patient asking to stop or change a medicine on their own (``normalise``d text)."""
    return bool(_STOP_ON_OWN.search(normalised_question))
