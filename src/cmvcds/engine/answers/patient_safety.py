"""What a patient is never told (README: "a patient who asks for a dose is told who decides it,
never given one"), and which questions are not answered at all.

``carries_dose`` is the one test every patient answer passes (``compose``): a sentence with an
amount of medicine (mg, mg/kg, g, mL, a tablet count) or a dosing schedule (every 12 h, twice
daily, ogni 6 ore) is left out of a patient answer, whatever produced it (a written statement, a
table, the patient's own assessment). Laboratory values (creatinine in mg/dL, CrCl in mL/min,
viral load in IU/mL) and durations (200 days, 6 months) are not doses.

``self_harm`` recognises a question that reads as self-harm or overdose intent ("a lethal dose",
"kill myself", "farla finita"): whoever asks, it gets a crisis answer (emergency number, crisis
line) and no content (fix15b, probe15 S3). ``asks_to_stop`` a patient asking whether to stop,
skip or change their own medicine (S4).

``asks_for_dose`` recognises a patient asking how much to take ("how many tablets", "quante
compresse", "can I double my dose"); ``unsafe_request`` a request to obtain or use a medicine
outside medical care ("without a prescription", "senza ricetta", "buy online"), which is
refused, not answered.
"""

from __future__ import annotations

import re

__all__ = [
    "asks_for_dose",
    "asks_to_stop",
    "carries_dose",
    "own_medicine",
    "self_harm",
    "stops_on_own",
    "unsafe_request",
]

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
    r"|cidofovir|acyclovir|aciclovir|valcyte|prevymis|livtencity|cytovene|it|them|this|these|some"
    r"|medicines?|medications?|drugs?|pills?|tablets?|capsules?|antivirals?|farmac[oi]|medicin[ae]"
    r"|compresse|pastiglie|syrup|sciroppo)"
)
#: An antiviral named (not a pronoun): "stop it and take valacyclovir instead".
_ANTIVIRAL = (
    r"(?:valganciclovir|ganciclovir|valacyclovir|valaciclovir|letermovir|maribavir|foscarnet"
    r"|cidofovir|acyclovir|aciclovir|valcyte|prevymis|livtencity|cytovene|zovirax|valtrex)"
)

# A request to obtain or use a CMV antiviral outside medical care is refused, whatever else the
# question asks (review11 S3: an availability word or a stop phrase next to the request turned the
# refusal off). The classes, on normalised text:
#   1. self-treatment and illicit sources: self-medicate, "treat myself", black market,
#      automedicazione, "curarmi da solo" (always refused);
#   2. someone else's medicine: taking or using another person's ("my husband's valganciclovir",
#      "from a friend", "di mia madre", "da un altro paziente"), or giving one's own to someone
#      ("give my son some of my tablets"); a caregiver asking about the medicine of the person
#      they care for ("how should I store my daughter's valganciclovir?") is answered (W1);
#   3. without a prescription or a doctor ("without a prescription / script / seeing a doctor",
#      "no prescription", "I don't need a prescription", "senza ricetta", "non ho la ricetta"):
#      refused, unless the question only asks whether the medicine is sold or available that way
#      ("Il letermovir si vende senza ricetta?") and asks for no source;
#   4. an unofficial source (online, abroad, over the counter, a website) for getting the
#      medicine, unless the question holds a prescription or names its own pharmacy ("order my
#      refill online with my prescription"). "Without insurance", "without going to the hospital
#      pharmacy" are neither 3 nor 4 (W1).
# Stopping on one's own ("Can I stop valganciclovir without asking my doctor?") is answered by
# "do not" (``stops_on_own``), unless it also asks for a source or to take another antiviral
# instead on one's own ("stop valganciclovir on my own and self-medicate with acyclovir").

_SELF_TREAT = re.compile(
    r"(?<![a-z])(?:self[- ]?(?:medicat\w*|prescrib\w*|treat\w*|dos(?:e|ing))"
    r"|(?:treat|medicate|cure|dose)(?: \w+){0,3}? (?:myself|ourselves|on my own|by myself)"
    r"|black market|dark web|mercato nero|automedica\w*|fai da te"
    r"|(?:curar|trattar|medicar)(?:mi|ci)(?: \w+){0,3}? (?:da sol[oa]|da me|di testa mia"
    r"|senza (?:\w+ ){0,3}?(?:medico|dottore|ricetta|prescrizione)))(?![a-z])"
)
_OWNER_EN = (
    r"(?:husband|wife|friend|mother|father|mom|mum|dad|partner|brother|sister|neighbou?r|son"
    r"|daughter|child|kid|baby|parent|grandmother|grandfather|grandma|grandpa|aunt|uncle|cousin"
    r"|relative|roommate|flatmate|colleague|boyfriend|girlfriend)"
)
_OTHER_PERSON_EN = (
    rf"(?:(?:my|our|a|an|his|her|their)(?: \w+)? {_OWNER_EN} s"
    r"|(?:someone|somebody|anyone|anybody) else s|(?:another|other|a different)(?: \w+)? "
    r"(?:person|patient) s)"
)
_OWNER_IT = (
    r"(?:madre|padre|mamma|papa|amic[oa]|marito|moglie|fratello|sorella|vicin[oa]|parente"
    r"|compagn[oa]|fidanzat[oa]|nonn[oa]|zi[oa]|cugin[oa]|collega|coinquilin[oa]"
    r"|altr[oa] (?:\w+ )?(?:persona|paziente)|altri|qualcun altro|un altro|un altra)"
)
_CHILD_IT = r"(?:figli[oa]|bambin[oa]|neonat[oa])"
_OTHERS = re.compile(
    r"(?<![a-z])(?:"
    # someone else's prescription, whatever is done with it
    r"(?:(?:someone|somebody|anyone) else s|another (?:person|patient) s|"
    + _OWNER_EN
    + r" s) prescription|(?:ricetta|prescrizione) (?:di|del|della) (?:\w+ )?"
    + _OWNER_IT
    # I take / use / borrow someone else's medicine
    + r"|(?:i|we) (?:\w+ ){0,2}?(?:take|use|borrow|try|finish|swallow|have)\w*(?: \w+){0,4}? "
    + rf"(?:{_OTHER_PERSON_EN} (?:\w+ ){{0,2}}?{_DRUG}"
    + rf"|{_DRUG}(?: \w+){{0,3}}? (?:from|of) (?:a|an|my|our|his|her|their|another|someone|somebody)"
    + rf"(?: \w+){{0,2}}? (?:{_OWNER_EN}|else|patient|person))"
    # I give my own medicine to someone ("give my son some of my tablets", "share my pills")
    + r"|(?:give|share|lend|pass|sell)\w*(?: \w+){0,2}? (?:to )?(?:my|a|an|his|her|our|another) "
    + rf"(?:\w+ )?(?:{_OWNER_EN}|patient|person)(?: \w+){{0,3}}? my (?:own )?(?:\w+ )?{_DRUG}"
    + rf"|(?:give|share|lend|pass|sell)\w* (?:\w+ ){{0,3}}?my (?:own )?{_DRUG}(?: \w+){{0,3}}? "
    + r"(?:to|with) (?:my|a|an|his|her|our|another|someone|somebody)"
    # Italian: prendere / usare / assumere the medicine of someone else (a child's too)
    + r"|(?:prender|usar|assumer|finir|farmi dar|farmi prestar|chieder)\w*(?: \w+){0,4}? "
    + rf"(?:\w+ ){{0,3}}?{_DRUG}(?: \w+){{0,2}}? (?:di|del|della|dello|da|dal|dalla) "
    + rf"(?:(?:mia|mio|un|una|uno|il|la|l|mi)\s)?(?:{_OWNER_IT}|{_CHILD_IT})"
    # Italian: giving someone else's medicine (not a child's) or one's own to someone
    + r"|(?:dar|prestar|passar|divider|vender)\w*(?: \w+){0,5}? "
    + rf"{_DRUG}(?: \w+){{0,2}}? (?:di|del|della|dello) (?:(?:mia|mio|un|una|uno)\s)?{_OWNER_IT}"
    + r"|(?:dar|prestar|passar|divider|vender)\w*(?: \w+){0,4}? (?:le mie|la mia|il mio|i miei"
    + rf"|delle mie|dei miei|un po delle mie) (?:\w+ ){{0,2}}?{_DRUG}"
    + r")(?![a-z])"
)
#: Collecting a medicine (for someone) at a pharmacy: not taking it ("prendere il valganciclovir di
#: mia madre in farmacia").
_PICKUP = re.compile(
    r"(?<![a-z])(?:pick\w* (?:\w+ )?up|collect\w*|ritir\w*|(?:andare|vado|passare|passo) a prender\w*"
    r"|(?:in|dalla|alla|nella) farmacia|from the pharmacy|at the pharmacy)(?![a-z])"
)
_NO_PRESCRIPTION = re.compile(
    r"(?<![a-z])(?:without (?:(?:a|an|any|the|my|your|seeing|asking|consulting|visiting|going to"
    r"|valid|doctor s|medical)\s){0,3}(?:prescriptions?|scripts?|rx|doctors?|physicians?|prescribers?"
    r"|gp|medical supervision)"
    r"|no (?:\w+ )?(?:prescriptions?|scripts?|rx)(?! (?:is )?(?:needed|required))"
    r"|(?:don t|do not|dont|won t|will not|doesn t|does not) (?:\w+ )?(?:need|have|require|want)\w* "
    r"(?:a |an |any )?(?:\w+ )?(?:prescription|script)"
    r"|senza (?:(?:la|una|alcuna|il|un|bisogno di|obbligo di|passare dal|andare dal|chiedere al"
    r"|sentire il|consultare il|dirlo al|dal|al|col|ricorrere al|una visita dal)\s){0,3}"
    r"(?:ricetta|prescrizione|medico|dottore)"
    r"|non (?:ho|abbiamo|ha) (?:la |una |nessuna |alcuna )?(?:ricetta|prescrizione))(?![a-z])"
)
#: An unofficial source of the medicine.
_SOURCE = re.compile(
    r"(?<![a-z])(?:online|on line|internet|web ?sites?|the web|abroad|overseas|over the counter"
    r"|from another country|e ?bay|amazon|in rete|sito|siti|all estero|da banco)(?![a-z])"
)
#: Getting the medicine itself (a verb with the medicine as its object).
_OBTAIN = re.compile(
    rf"(?<![a-z])(?:buy|order|purchase|get|obtain|acquire|source|find)\w*(?: \w+){{0,3}}? {_DRUG}"
    rf"(?![a-z])|(?<![a-z])(?:compr|acquist|ordin|procur|trov|otten)\w*(?: \w+){{0,3}}? {_DRUG}"
    r"(?![a-z])"
)
#: Asking for somewhere or someone to get it from (a seller, a website).
_ASKS_SELLER = re.compile(
    r"(?<![a-z])(?:(?:is there|are there|do you know|know of|recommend|suggest) (?:a |an |any )?"
    r"(?:\w+ )?(?:website|site|pharmacy|shop|store|seller|vendor|supplier|place|way)"
    r"|which (?:\w+ )?(?:pharmacy|website|site|shop|store|seller|vendor|supplier)"
    r"|(?:sell|send|ship|mail|post)\w* (?:me|us)"
    r"|esiste (?:un|una|qualche) (?:\w+ )?(?:sito|farmacia|negozio|modo)"
    r"|(?:quale|che) (?:\w+ )?(?:sito|farmacia|negozio)"
    r"|(?:mi|ci) (?:\w+ )?(?:vend|spedisc|spedir|mand|procur)\w*"
    r"|qualcuno (?:\w+ ){0,2}?(?:vend|procur|spedisc|mand)\w*)(?![a-z])"
)
#: Asking where or how to get it, or saying one wants to ("where can I order", "posso comprare").
_ASKS_TO_GET = re.compile(
    r"(?<![a-z])(?:(?:where|how)(?: else)?(?: can| could| do| would| should| might| may| to)"
    r"(?: i| we| you| one)? (?:buy|order|purchase|get|obtain|find|source|acquire)"
    r"|(?:can|could|may) (?:i|we) (?:\w+ )?(?:buy|order|purchase|get|obtain|acquire)"
    r"|(?:i|we) (?:\w+ ){0,2}?(?:want|like|need|wish|trying|try|plan)\w* to (?:buy|order|purchase"
    r"|get|obtain|acquire)"
    r"|(?:dove|come)(?: (?:posso|potrei|possiamo|si puo|faccio a|fare a|riesco a))? "
    r"(?:compr|acquist|ordin|procur|otten)\w*|dove (?:\w+ )?(?:trov|prend)\w*"
    r"|(?:posso|possiamo|potrei|voglio|vorrei|devo) (?:\w+ )?(?:compr|acquist|ordin|procur|otten)\w*)"
    r"(?![a-z])"
)
#: A question that holds a prescription or names its own pharmacy.
_HELD = re.compile(
    r"(?<![a-z])(?:with (?:my|a|the|our|his|her|their|a valid) (?:\w+ )?prescription"
    r"|my (?:\w+ )?prescription|refills?|repeat prescription"
    r"|from (?:my|our|the) (?:\w+ ){0,3}?(?:pharmacy|hospital|clinic|centre|center|doctor)"
    r"|con (?:la |una |mia |la mia |regolare )?(?:ricetta|prescrizione)|la mia ricetta"
    r"|(?:dalla|nella|alla) (?:mia )?farmacia (?:dell ospedale|ospedaliera|del centro))(?![a-z])"
)
#: A question whether a medicine is sold or available, or needs a prescription.
_AVAILABILITY = re.compile(
    r"(?<![a-z])(?:(?:is|are) (?:\w+ ){1,3}?(?:available|sold|on sale|prescription[- ]only|licensed"
    r"|approved|marketed)"
    r"|(?:do|does|will|would) (?:\w+ )?(?:\w+ )?(?:need|require)\w* (?:a |an |any )?(?:\w+ )?"
    r"prescription|(?:is|are) (?:a |any )?prescriptions? (?:needed|required|necessary)"
    r"|si vend\w*|vendut[oaie]|in vendita|disponibil\w*|si trova\w*"
    r"|(?:serve|servono|ci vuole|occorre|bisogna avere|e necessaria|e obbligatoria) "
    r"(?:la |una )?(?:ricetta|prescrizione)|(?:ricetta|prescrizione) (?:e )?(?:obbligatoria"
    r"|necessaria))(?![a-z])"
)
#: After stopping on one's own, taking another antiviral on one's own instead.
_SWITCH_ON_OWN = re.compile(
    r"(?<![a-z])(?:and|then|e|poi|instead|invece|al posto)(?: \w+){0,3}? (?:take|use|start|switch"
    r"|go on|try|prender\w*|usar\w*|assumer\w*|iniziar\w*|curarmi|passare|provar\w*)"
    rf"(?: \w+){{0,3}}? {_ANTIVIRAL}(?![a-z])"
)


def unsafe_request(normalised_question: str) -> bool:
    """A request to obtain or use a CMV antiviral outside medical care (``normalise``d text):
    self-treatment, someone else's medicine, without a prescription or a doctor, from an
    unofficial source. A caregiver's question about the medicine of the person they care for, a
    question that holds its prescription, or one that only asks whether a medicine is available or
    needs a prescription is not one."""
    q = normalised_question
    if _SELF_TREAT.search(q):
        return True
    if _OTHERS.search(q) and not _PICKUP.search(q):
        return True
    seller = bool(_ASKS_SELLER.search(q))
    obtains = bool(_OBTAIN.search(q))
    if stops_on_own(q):
        # "Can I stop it without asking my doctor?" is answered (do not), unless it also asks
        # for the medicine from a source outside care or to take another antiviral instead.
        outside = _SOURCE.search(q) or _NO_PRESCRIPTION.search(q)
        return bool(_SWITCH_ON_OWN.search(q)) or bool(outside and (obtains or seller))
    if _NO_PRESCRIPTION.search(q):
        # "Il letermovir si vende senza ricetta?" asks what the law is; "Posso comprarlo senza
        # ricetta? Serve la ricetta?" asks for it.
        return not _AVAILABILITY.search(q) or seller or obtains or bool(_ASKS_TO_GET.search(q))
    if _SOURCE.search(q) and (obtains or seller):
        return not _HELD.search(q)
    return False


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


#: Self-harm or overdose intent (normalised text): a lethal/fatal/deadly dose, killing oneself,
#: suicide, ending one's life, taking all the tablets, overdosing on purpose; in Italian dose
#: letale/mortale, uccidermi, suicid-, farla finita, togliermi la vita. An accidental overdose or
#: "what happens in an overdose" is a clinical question, not this.
_SELF_HARM = re.compile(
    r"(?<![a-z])(?:(?:lethal|fatal|deadly|killing)\s+(?:\w+\s+)?(?:dose|amount|quantity|number)"
    r"|(?:would|will|could|to|enough to) kill (?:me|myself|a (?:person|human|man|woman|child)"
    r"|someone|somebody|an adult)"
    r"|kill (?:myself|herself|himself|themselves|ourselves)|suicid\w*|end (?:my|his|her) life"
    r"|end it all|take my (?:own )?life|(?:want|going|wish|plan\w*) to die"
    r"|(?:harm|hurt|poison) (?:myself|herself|himself)|self[- ]?harm\w*"
    r"|(?:overdose|od) on purpose|(?:want|going|plan\w*|try\w*) to (?:overdose|od)(?![a-z])"
    r"|(?:dose|quantita) (?:\w+ )?(?:letale|mortale|fatale)"
    r"|uccidermi|ammazzarmi|suicidarmi|togliermi la vita|farla finita|farmi del male"
    r"|avvelenarmi|voglio morire|non voglio piu vivere|autolesion\w*"
    r"|(?:per|da) (?:morire|uccidere (?:una persona|qualcuno))"
    # Not waking up (fixa23): "pills to not wake up", "never wake up", "per non svegliarmi più";
    # not "my baby won't wake up for feeds" nor "non si sveglia per la poppata".
    r"|(?:to|so|and|that|i) (?:\w+ )?(?:not|never|don t|dont|won t|wont|do not|will not) "
    r"(?:\w+ )?wake up|never (?:\w+ )?wake up|not wake up (?:again|ever|tomorrow)"
    r"|non (?:mi )?(?:ri)?svegli(?:armi|arsi|erei|ero)|(?:per|da|cosi da) non (?:ri)?svegliar\w*"
    # Not wanting to live (fixa23): "I don't want to live anymore", "non voglio vivere".
    r"|(?:don t|dont|do not|no longer) (?:\w+ )?want to (?:live|be alive|be here|exist)"
    r"|non voglio (?:piu )?(?:vivere|essere viv[oa]|esistere)"
    r")(?![a-z])"
)
#: Taking everything at once (fixa23): "all my foscarnet at once", "the whole box/bottle", "all the
#: pills", "tutta la scatola", "tutte le compresse", "tutte insieme". Self-harm only with an ending
#: (``_ENDING``) or despair (``_DESPAIR``) in the same question: "I took all my tablets this week
#: as prescribed" is not.
_ALL_AT_ONCE = re.compile(
    r"(?<![a-z])(?:all (?:\w+ ){0,3}?at once|all at the same time|all together|all of (?:it|them)"
    r"|(?:all|every one of) (?:my |the |of my |of the )?(?:\w+ )?(?:pills|tablets|capsules|meds"
    r"|medicines?|medication|supply|stock)"
    r"|(?:the|a|my) (?:whole|entire|full) (?:\w+ )?(?:box|bottle|pack\w*|strip|blister|supply)"
    r"|everything (?:i have|at once)"
    r"|tutt[ao] (?:la |il |quell[ao] |l )?(?:\w+ )?(?:scatol\w*|confezion\w*|flacon\w*|boccett\w*"
    r"|bottigli\w*|blister|farmaco|medicina)|tutte (?:le |quelle )?(?:\w+ )?(?:pastiglie|compresse"
    r"|capsule|pillole|medicine)|tutt[ei] insieme|tutto insieme|in una (?:sola )?volta)(?![a-z])"
)
#: Dying or ending it, said next to taking everything (fixa23).
_ENDING = re.compile(
    r"(?<![a-z])(?:die|dying|dead|death|(?:it|this|everything|all) (?:to |will |would )?(?:be )?over"
    r"|end (?:it|this|everything)|over with|not wake|never wake"
    r"|muoio|morir\w*|morto|morta|la faccio finita|farla finita|finirla|finita per sempre"
    r"|non (?:mi )?(?:ri)?svegli\w*)(?![a-z])"
)
#: Despair, said next to taking everything (fixa23): "I can't go on", "non ce la faccio più".
_DESPAIR = re.compile(
    r"(?<![a-z])(?:can t go on|cannot go on|can t take (?:it|this) any ?more|can t do this any ?more"
    r"|want (?:it|this|everything|it all) to (?:end|stop|be over)|tired of living|hopeless"
    r"|non ce la faccio piu|non ne posso piu|voglio che (?:tutto )?finisca|stanc[oa] di vivere)(?![a-z])"
)


def self_harm(normalised_question: str) -> bool:
    """A question that reads as self-harm or overdose intent (``normalise``d text): the phrases of
    ``_SELF_HARM``, or taking everything at once said with dying, ending it or despair."""
    q = normalised_question
    if _SELF_HARM.search(q):
        return True
    return bool(_ALL_AT_ONCE.search(q)) and bool(_ENDING.search(q) or _DESPAIR.search(q))


#: A patient asking whether to stop, skip, pause or change their own medicine ("Can I stop my
#: valganciclovir because I feel tired?", "posso smettere il valganciclovir?", "can I skip a dose").
_ASKS_TO_STOP = re.compile(
    r"(?<![a-z])(?:(?:can|could|may|should|must|shall) (?:i|we|he|she|my \w+) (?:\w+ )?"
    r"(?:stop|quit|skip|pause|interrupt|discontinue|come off|halve|cut down|reduce|lower|miss)"
    r"|(?:i|we) (?:\w+ )?(?:want|would like|like|need|am going|plan\w*|thinking) (?:\w+ )?to "
    r"(?:stop|quit|skip|pause|come off|discontinue)"
    r"|(?:posso|possiamo|potrei|devo|dovrei|vorrei|voglio) (?:\w+ )?(?:smetter\w*|sospender\w*"
    r"|interromper\w*|saltar\w*|ridurr\w*|dimezzar\w*|lasciar\w*)"
    r")(?![a-z])"
)


def asks_to_stop(normalised_question: str) -> bool:
    """A patient asking whether to stop, skip or change their own medicine (``normalise``d)."""
    return bool(_ASKS_TO_STOP.search(normalised_question) or _STOP_ON_OWN.search(normalised_question))


#: A patient speaking of their own medicine or dose ("should I take", "my valganciclovir", "sono
#: incinta", "devo prendere"), on normalised text.
_OWN_MEDICINE = re.compile(
    r"(?<![a-z])(?:(?:should|do|must|can|shall|could|would|will|may) i (?:\w+ )?(?:take|have|swallow"
    r"|use|stop|skip|quit|pause|miss|halve|reduce|lower|come off)"
    r"|i (?:am|m) (?:a patient|pregnant|taking|on)|im (?:pregnant|a patient)|(?:i|we) (?:take|took)"
    rf"|my (?:own )?(?:\w+ )?{_DRUG}|my (?:dose|doses)|for me|(?:i|we) feel"
    r"|(?:devo|posso|dovrei|potrei|possiamo|voglio|vorrei) (?:\w+ )?(?:prender\w*|assumer\w*"
    r"|smetter\w*|sospender\w*|interromper\w*|saltar\w*|ridurr\w*)"
    r"|(?:ne |lo |la )?prendo|sono incinta|sono (?:una |un )?paziente|la mia dose|mi sento"
    r"|(?:le mie|i miei|il mio|la mia) (?:\w+ )?(?:compresse|pastiglie|capsule|farmac[oi]|medicin[ae]"
    r"|valganciclovir|ganciclovir|valaciclovir|letermovir|maribavir))(?![a-z])"
)
#: A clinician's wording: the patient in the third person, a case ("a 70 kg adult").
_ABOUT_A_PATIENT = re.compile(
    r"(?<![a-z])(?:my patients?|our patients?|the patient|this patient|(?:a|an) \d+ ?kg"
    r"|il (?:mio )?paziente|la (?:mia )?paziente|al paziente|nel paziente|del paziente"
    r"|(?:do|should|can|must) (?:i|we) (?:give|prescribe|start|dose|use in|switch))(?![a-z])"
)
_SELF_DECLARED = re.compile(r"(?<![a-z])(?:i am a patient|i m a patient|sono (?:una |un )?paziente)(?![a-z])")


def own_medicine(normalised_question: str) -> bool:
    """A patient speaking of their own medicine or dose, not a clinician of a patient
    (``normalise``d text): "Can I stop my valganciclovir?", "Sono incinta, quanto valaciclovir
    devo prendere?"; not "What dose should I give my patient?"."""
    q = normalised_question
    if _SELF_DECLARED.search(q):
        return True
    return bool(_OWN_MEDICINE.search(q)) and not _ABOUT_A_PATIENT.search(q)


#: Someone saying they (or the person they care for) took a medicine (normalised text).
_TOOK = re.compile(
    r"(?<![a-z])(?:(?:i|we|i ve|we ve|i have|we have) (?:\w+ ){0,2}?(?:took|taken|swallowed|had|take)"
    r"|my (?:son|daughter|child|baby|husband|wife|partner|mother|father|mum|mom|dad) (?:\w+ ){0,2}?"
    r"(?:took|has taken|swallowed|had|got)"
    r"|(?:ho|abbiamo|ha) (?:\w+ ){0,2}?(?:preso|assunto|ingerito|inghiottito))(?![a-z])"
)
#: More than prescribed: "two doses", "twice", "double", "an extra dose", "due compresse invece di
#: una", "di troppo".
_EXCESS = re.compile(
    r"(?<![a-z])(?:(?:two|2|three|3) (?:\w+ )?(?:doses|tablets|pills|capsules)|twice|double\w*"
    r"|extra (?:\w+ )?(?:dose|tablet|pill|capsule)|too (?:much|many)|more than (?:prescribed|i should"
    r"|my dose)|overdos\w*|(?:a |the )?second dose|another dose|dose again"
    r"|(?:due|tre|2|3) (?:\w+ )?(?:dosi|compresse|pastiglie|capsule|volte)|doppi\w*|di troppo"
    r"|in piu|piu (?:del|di quanto)|sovradosaggio|un altra dose|di nuovo)(?![a-z])"
)
#: By mistake ("accidentally", "per sbaglio", "forgot I had already taken it").
_BY_MISTAKE = re.compile(
    r"(?<![a-z])(?:accident\w*|by mistake|mistaken\w*|in error|by error|wrongly|inadvertent\w*"
    r"|forgot (?:that )?(?:i|we) (?:had )?(?:already )?|already (?:taken|took|had)"
    r"|per sbaglio|per errore|erroneamente|inavvertitamente|senza volere|gia (?:preso|assunt\w*)"
    r"|dimenticat\w* di aver(?:e|lo|la)?)(?![a-z])"
)


def accidental_extra_dose(normalised_question: str) -> bool:
    """Someone saying they took more of a medicine than prescribed by mistake (``normalise``d
    text): "I accidentally took two doses of valganciclovir this morning", "ho preso per sbaglio due
    compresse". "What happens in an accidental overdose?" (no one says they took it) is a clinical
    question, not this; self-harm intent is ``self_harm``, checked first."""
    q = normalised_question
    return bool(_TOOK.search(q) and _EXCESS.search(q) and _BY_MISTAKE.search(q))
