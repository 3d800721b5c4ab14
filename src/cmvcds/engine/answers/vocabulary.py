"""Understanding a question: populations, drugs, topics and numbers, in English and Italian.

The words come from the knowledge pack (``answers/vocabulary.yaml``): every synonym, brand name
and abbreviation (GCV, VGC, FOS, CDV, LTV, MBV, VACV …) is data. Matching is on whole words or
phrases after lower-casing and removing accents, so "Qual è la terapia in gravidanza?" finds the
topic *treatment* and the population *pregnancy*. A word of the question also names a population
or topic when its Snowball stem (Italian or English, PyStemmer) is the stem of one of the concept's
one-word synonyms: "trattati", "trattare" and "trattamento" are all *treatment* without listing
each inflection. Numbers (a creatinine clearance, a weight, a
gestational age, a creatinine) are read with their unit or the word that names them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import Stemmer  # type: ignore[import-not-found]  # PyStemmer ships no type information

from cmvcds.knowledge.schemas.answers import QuestionVocabulary, Term

__all__ = ["Lexicon", "Understanding", "normalise", "understand"]

_ITALIAN_MARKERS = frozenset(
    [
        "il",
        "lo",
        "la",
        "gli",
        "le",
        "della",
        "delle",
        "del",
        "dei",
        "nella",
        "nel",
        "quale",
        "quali",
        "qual",
        "cosa",
        "come",
        "quando",
        "quanto",
        "durata",
        "terapia",
        "gravidanza",
        "neonato",
        "trapianto",
        "dose",
        "dosaggio",
        "per",
        "con",
        "che",
        "sono",
        "deve",
        "puo",
        "dopo",
        "prima",
        "una",
        "uno",
        "un",
        "di",
        "da",
        "e",
        "tra",
        "fra",
        "nei",
        "negli",
        "al",
        "alla",
        "ai",
        "si",
        "non",
        "perche",
        "anche",
        # A patient's short question ("Quante compresse devo prendere?") has few of the above.
        "quante",
        "quanti",
        "quanta",
        "devo",
        "posso",
        "prendere",
        "assumere",
        "compresse",
        "compressa",
        "pastiglie",
        "giorno",
        "mio",
        "mia",
        "ho",
        "incinta",
    ]
)
_ENGLISH_MARKERS = frozenset(
    [
        "the",
        "what",
        "which",
        "how",
        "when",
        "is",
        "are",
        "of",
        "for",
        "with",
        "does",
        "should",
        "can",
        "after",
        "before",
        "dose",
        "treatment",
        "pregnancy",
        "transplant",
    ]
)

_NUMBER = r"(\d+(?:[.,]\d+)?)"
#: Elided Italian articles, prepositions and pronouns ("l'", "dell'", "un'", "quest'", "c'").
_ELISION = re.compile(
    r"(?<![a-z])(?:l|dell|dall|nell|all|sull|coll|tutt|un|quest|quell|nessun|c|d|s|n|m|t|v)'(?=[a-z])"
)
#: First-person wording of a patient or a parent: "I am pregnant", "sono incinta", "il mio bambino".
_FIRST_PERSON = re.compile(
    r"(?<![a-z])(?:i|i m|im|my|me|mine|myself|ho|mio|mia|miei|mie|mi|sono incinta|sono alla"
    r"|sono in|sono trapiantat[oa]|posso|devo|prendo)(?![a-z])"
)
#: A clinician speaking of the patient in the first person ("my patient", "il mio paziente").
_CLINICIAN_FIRST_PERSON = re.compile(
    r"(?<![a-z])(?:my patients?|il mio paziente|la mia paziente|i miei pazienti|our patients?)(?![a-z])"
)
#: Words that place a question after birth ("newborn", "at birth", "nato") rather than before it.
_AFTER_BIRTH = re.compile(
    r"(?<![a-z])(?:newborns?|neonat\w*|infants?|born|at birth|after birth|nato|nata|nati"
    r"|alla nascita|dopo il parto|dopo la nascita|lattant\w*)(?![a-z])"
)
_BEFORE_BIRTH = re.compile(
    r"(?<![a-z])(?:before birth|prima della nascita|unborn|in utero|nell utero|womb|utero"
    r"|amniocentesis|amniocentesi)(?![a-z])"
)


#: The combining marks NFKD separates from their letters (accents): removed.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


#: A diagnosis named as the reader's situation rather than asked about ("my CMV test came back
#: positive", "I have a primary infection").
_SITUATION = re.compile(
    r"(?<![a-z])(?:(?:maternal |materna )?primary (?:cmv )?infection|infezione primaria(?: materna)?"
    r"(?: da (?:cmv|citomegalovirus))?"
    r"|(?:cmv )?test(?: del cmv)?(?: came back| was| is| e| e risultato| risultato)"
    r" (?:positive|negative|positivo|positiva|negativo|negativa))(?![a-z])"
)


def normalise(text: str) -> str:
    """Lower-case, accents removed, punctuation except ``+ - / . ,`` turned into spaces."""
    folded = text.lower()
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    folded = folded.replace("−", "-").replace("–", "-").replace("’", "'")
    # An Italian elision belongs to the word it is joined to: "dell'infezione" reads "infezione".
    folded = _ELISION.sub("", folded)
    folded = re.sub(r"[^a-z0-9+\-/.,% ]", " ", folded)  # an apostrophe separates (l'amniocentesi)
    folded = re.sub(r"(?<=[a-z])[.,](?=\s|$)", " ", folded)  # sentence punctuation after a word
    folded = re.sub(r"[?!;:]", " ", folded)
    return re.sub(r"\s+", " ", folded).strip()


class Phrases:
    """Whole-word phrases matched by one pattern (longest first, one boundary check around the
    alternation), compiled on first need: a phrase can only match where the text has a word equal
    to the phrase's first word, so a question whose words start none of them is answered without
    compiling (a process that restores a cached index compiles the few concepts its question
    names, not the whole vocabulary: ~50 ms)."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = tuple(sorted(set(phrases), key=lambda p: (-len(p), p)))
        heads = [re.match(r"[a-z0-9]+", p) for p in self.phrases]
        #: The first words of the phrases; none when a phrase starts with a sign (always tried).
        self.heads = frozenset(h.group() for h in heads if h) if all(heads) else None
        self._pattern: re.Pattern[str] | None = None

    def __getstate__(self) -> tuple[tuple[str, ...], frozenset[str] | None]:
        return self.phrases, self.heads

    def __setstate__(self, state: tuple[tuple[str, ...], frozenset[str] | None]) -> None:
        self.phrases, self.heads = state
        self._pattern = None

    def _compiled(self) -> re.Pattern[str]:
        if self._pattern is None:
            alternatives = "|".join(re.escape(p) for p in self.phrases)
            self._pattern = re.compile(r"(?<![a-z0-9])(?:" + alternatives + r")(?![a-z0-9])")
        return self._pattern

    def finditer(self, text: str, words: frozenset[str] | None = None) -> list[re.Match[str]]:
        """The matches in ``text`` (``words``: its words, when the caller has them)."""
        if self.heads is not None and not self.heads & (words or text_words(text)):
            return []
        return list(self._compiled().finditer(text))

    def search(self, text: str) -> re.Match[str] | None:
        found = self.finditer(text)
        return found[0] if found else None


def text_words(text: str) -> frozenset[str]:
    """The runs of letters and digits of normalised text (where a phrase may start)."""
    return frozenset(re.findall(r"[a-z0-9]+", text))


@dataclass(frozen=True)
class Understanding:
    """What a question is about, as far as the vocabulary can tell."""

    question: str
    language: str
    populations: tuple[str, ...]
    drugs: tuple[str, ...]
    topics: tuple[str, ...]
    numbers: Mapping[str, Decimal | str]
    anchored: bool
    unknown_terms: tuple[str, ...]
    #: Another infection named (varicella, rubella…): the question is not about CMV.
    other_infection: bool = False
    tokens: tuple[str, ...] = field(default=())
    semantic_query: str = ""
    audience: str = "clinician"

    @property
    def has_concepts(self) -> bool:
        return bool(self.populations or self.drugs or self.topics or self.anchored)

    def to_dict(self) -> dict[str, object]:
        return {
            "language": self.language,
            "populations": list(self.populations),
            "drugs": list(self.drugs),
            "topics": list(self.topics),
            "numbers": {k: _plain_number(v) for k, v in self.numbers.items()},
            "audience": self.audience,
        }


def _plain_number(value: Decimal | str) -> float | int | str:
    if isinstance(value, str):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


#: The Snowball stemmers of the two languages asked in (C, thread-safe per call).
_STEMMERS = (("it", Stemmer.Stemmer("italian")), ("en", Stemmer.Stemmer("english")))
#: Words and stems shorter than this are left to the exact patterns (abbreviations: HIV, SOT).
_MIN_STEMMED = 4


def stems(word: str) -> frozenset[str]:
    """The Italian and English Snowball stems of ``word``, tagged by language ("it:tratt")."""
    if len(word) < _MIN_STEMMED:
        return frozenset()
    out = {f"{lang}:{s.stemWord(word)}" for lang, s in _STEMMERS}
    return frozenset(t for t in out if len(t) - 3 >= _MIN_STEMMED)


@dataclass(frozen=True)
class Lexicon:
    """The compiled vocabulary: one pattern per concept, and the word lists."""

    populations: Mapping[str, Phrases]
    drugs: Mapping[str, Phrases]
    topics: Mapping[str, Phrases]
    includes: Mapping[str, tuple[str, ...]]
    anchors: Phrases
    other_infections: Phrases | None
    ignorable: frozenset[str]
    stopwords: frozenset[str]
    known_words: frozenset[str]
    vocabulary: QuestionVocabulary
    #: The stems of the one-word synonyms of each population and topic.
    stemmed: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, vocabulary: QuestionVocabulary, corpus_words: Iterable[str] = ()) -> Lexicon:
        def compile_terms(terms: Mapping[str, Term]) -> dict[str, Phrases]:
            return {
                name: Phrases(normalise(s) for s in term.synonyms) for name, term in terms.items()
            }

        vocabulary_words = {
            word
            for group in (vocabulary.populations, vocabulary.drugs, vocabulary.topics)
            for term in group.values()
            for synonym in (*term.synonyms, term.label)
            for word in normalise(synonym).split()
        }
        return cls(
            populations=compile_terms(vocabulary.populations),
            drugs=compile_terms(vocabulary.drugs),
            topics=compile_terms(vocabulary.topics),
            includes={k: t.includes for k, t in vocabulary.populations.items() if t.includes},
            anchors=Phrases(normalise(a) for a in vocabulary.anchors),
            other_infections=Phrases(normalise(w) for w in vocabulary.other_infections)
            if vocabulary.other_infections
            else None,
            ignorable=frozenset(
                normalise(w) for w in (*vocabulary.stopwords, *vocabulary.general_words)
            ),
            stopwords=frozenset(normalise(w) for w in vocabulary.stopwords),
            # The index's words are tokens of normalised text already ([a-z0-9]).
            known_words=frozenset(vocabulary_words)
            | frozenset(w if w.isascii() and w.isalnum() else normalise(w) for w in corpus_words),
            vocabulary=vocabulary,
            stemmed={
                name: frozenset(
                    stem
                    for synonym in (*term.synonyms, term.label)
                    if " " not in (word := normalise(synonym))
                    for stem in stems(word)
                )
                for group in (vocabulary.populations, vocabulary.topics)
                for name, term in group.items()
            },
        )

    def expand_populations(self, populations: Iterable[str]) -> frozenset[str]:
        """The populations named, with those a general one includes (transplant → sot, hsct)."""
        out: set[str] = set()
        for population in populations:
            out.add(population)
            out.update(self.includes.get(population, ()))
        return frozenset(out)


def understand(question: str, lexicon: Lexicon) -> Understanding:
    """Read ``question`` with ``lexicon``: the concepts it names, its numbers, its language."""
    text = normalise(question)
    numbers, masked = _numbers(text)
    spans: list[tuple[int, int]] = []

    words = text_words(masked)

    def found(patterns: Mapping[str, Phrases]) -> list[str]:
        hits = []
        for name, pattern in patterns.items():
            matches = [m.span() for m in pattern.finditer(masked, words)]
            if matches:
                hits.append(name)
                spans.extend(matches)
        return hits

    populations = found(lexicon.populations)
    drugs = found(lexicon.drugs)
    topics = found(lexicon.topics)
    # A question whose words name no population (or no topic) by its synonyms names one by a
    # word's stem ("trattati" is an inflection of "trattamento"); a word inside a matched phrase
    # ("side effects") keeps the phrase's meaning.
    anchors = lexicon.anchors.finditer(masked, words)
    spans.extend(m.span() for m in anchors)
    exact = list(spans)
    unnamed = [
        (n, g) for n, g in ((populations, lexicon.populations), (topics, lexicon.topics)) if not n
    ]
    # A word is stemmed in the question's language only: the English "fall" has the Italian
    # stem of "fallimento" (failure), which made "neutrophils fall below 500" a resistance
    # question (fix15b, probe15 S5).
    tag = _language(tuple(re.findall(r"[a-z][a-z0-9\-]*", text))) + ":"
    for match in re.finditer(r"[a-z]+", masked):
        if any(start <= match.start() < end for start, end in exact):
            continue
        word = frozenset(s for s in stems(match.group()) if s.startswith(tag))
        for names, group in unnamed:
            for name in group:
                if word & lexicon.stemmed.get(name, frozenset()):
                    if name not in names:
                        names.append(name)
                    spans.append(match.span())
    if (
        "diagnosis" in topics
        and len(topics) > 1
        and not lexicon.topics["diagnosis"].search(_SITUATION.sub(" ", masked))
    ):
        # "I have a primary infection: is valaciclovir safe?" names the diagnosis as the
        # situation; the question is the other topic.
        topics.remove("diagnosis")
    # A specific population named makes the general one that includes it redundant.
    populations = [
        p for p in populations if not set(lexicon.includes.get(p, ())) & set(populations)
    ]
    if numbers.get("crcl_ml_min") is not None or numbers.get("egfr_ml_min") is not None:
        topics = _add(topics, "renal")
    if "gestational_age" in numbers:
        populations = _add(populations, "pregnancy")
    if "congenital" in populations and "pregnancy" in populations:
        # "my baby" in a pregnancy question is the fetus; "newborn", "at birth" is after birth.
        after = _AFTER_BIRTH.search(text) and not _BEFORE_BIRTH.search(text)
        populations.remove("pregnancy" if after else "congenital")
    if "valacyclovir" in drugs and "congenital" in populations and not _AFTER_BIRTH.search(text):
        # valacyclovir is taken by the mother (AIFA protocol): "my baby" is the fetus.
        populations[populations.index("congenital")] = "pregnancy"
    tokens = tuple(re.findall(r"[a-z][a-z0-9\-]*", text))
    unknown = _unknown_terms(masked, spans, lexicon)
    # The embedding model's cost grows with the tokens: it reads the words that carry meaning.
    content = [t for t in tokens if t not in lexicon.stopwords]
    return Understanding(
        question=question,
        language=_language(tokens),
        populations=tuple(populations),
        drugs=tuple(drugs),
        topics=tuple(topics),
        numbers=numbers,
        anchored=bool(anchors),
        unknown_terms=unknown,
        tokens=tokens,
        semantic_query=" ".join(content) or text,
        audience=_audience(text),
        other_infection=bool(lexicon.other_infections and lexicon.other_infections.search(text)),
    )


def _audience(text: str) -> str:
    """Who asks, as the wording tells: a patient or parent speaks of "I", "my baby", "sono incinta"."""
    if _CLINICIAN_FIRST_PERSON.search(text):
        return "clinician"
    return "patient" if _FIRST_PERSON.search(text) else "clinician"


def _add(items: list[str], item: str) -> list[str]:
    return items if item in items else [*items, item]


def _language(tokens: tuple[str, ...]) -> str:
    italian = sum(t in _ITALIAN_MARKERS for t in tokens)
    english = sum(t in _ENGLISH_MARKERS for t in tokens)
    return "it" if italian > english else "en"


def _unknown_terms(text: str, spans: list[tuple[int, int]], lexicon: Lexicon) -> tuple[str, ...]:
    """Words of the question that neither the vocabulary nor the statements know."""
    covered = [False] * len(text)
    for start, end in spans:
        for i in range(start, end):
            covered[i] = True
    unknown: list[str] = []
    for match in re.finditer(r"[a-z][a-z\-]*", text):
        word = match.group().strip("-")
        if covered[match.start()] or len(word) < 3 or word in lexicon.ignorable:
            continue
        if all(_known(part, lexicon) for part in word.split("-") if part):
            continue
        if word not in unknown:
            unknown.append(word)
    return tuple(unknown)


def _known(word: str, lexicon: Lexicon) -> bool:
    return (
        len(word) < 3
        or word in lexicon.ignorable
        or word in lexicon.known_words
        or word.rstrip("s") in lexicon.known_words
    )


# ------------------------------------------------------------------ numbers

_CRCL = re.compile(
    r"(?:crcl|cl ?cr|creatinine clearance|clearance (?:della |di )?creatinina|clearance"
    r"|cockcroft[- ]gault)\D{0,24}?" + _NUMBER + r"(?:\s*ml\s*/?\s*min)?"
)
_EGFR = re.compile(r"(?:egfr|e-gfr|gfr|filtrato(?: glomerulare)?)\D{0,20}?" + _NUMBER)
_ML_MIN = re.compile(_NUMBER + r"\s*ml\s*/\s*min(?!\s*/\s*1\.73)")
_WEIGHT = re.compile(_NUMBER + r"\s*(?:kg|kilos?|kilograms?|chili|chilogrammi)(?![a-z/])")
_GRAMS = re.compile(r"(?<![\d.,])(\d{3,4})\s*(?:g|grams|grammi)(?![a-z/])")
_GA_PLUS = re.compile(r"(?<![\d.])(\d{1,2})\s*\+\s*([0-6])(?!\d)")
_GA_WEEKS = re.compile(
    r"(?:(?:week|settimana|sett)\s*(\d{1,2}))|(?:(\d{1,2})\s*(?:a\s+)?(?:weeks?|wks?|settimane|settimana|sett)"
    r"(?:\s+(?:of\s+)?(?:gestation|pregnancy|gestazione|gravidanza|ga))?)"
)
_CREATININE = re.compile(
    r"(?:creatinine|creatinina|scr|serum creatinine)\D{0,16}?"
    + _NUMBER
    + r"\s*(mg\s*/\s*dl|umol\s*/\s*l|µmol\s*/\s*l)?"
)
_AGE = re.compile(r"(\d{1,3})\s*(?:-| )?(?:years?|yrs?|anni|y)(?:\s*-?\s*old)?(?![a-z])")


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def _numbers(text: str) -> tuple[dict[str, Decimal | str], str]:
    """The numbers a question gives, keyed with their unit; and the text with them blanked."""
    numbers: dict[str, Decimal | str] = {}
    masked = text

    def take(pattern: re.Pattern[str]) -> re.Match[str] | None:
        nonlocal masked
        match = pattern.search(masked)
        if match:
            masked = (
                masked[: match.start()]
                + " " * (match.end() - match.start())
                + masked[match.end() :]
            )
        return match

    if match := take(_EGFR):
        numbers["egfr_ml_min"] = _decimal(match.group(1))
    if match := take(_CRCL) or take(_ML_MIN):
        numbers["crcl_ml_min"] = _decimal(match.group(1))
    if match := take(_CREATININE):
        value = _decimal(match.group(1))
        unit = (match.group(2) or "").replace(" ", "")
        numbers["creatinine"] = value
        numbers["creatinine_unit"] = (
            "umol/L" if "mol" in unit or (not unit and value > 20) else "mg/dL"
        )
    if match := take(_WEIGHT):
        numbers["weight_kg"] = _decimal(match.group(1))
    elif match := take(_GRAMS):
        numbers["weight_kg"] = _decimal(match.group(1)) / 1000
    if match := take(_GA_PLUS):
        numbers["gestational_age"] = f"{int(match.group(1))}+{int(match.group(2))}"
    elif re.search(r"gestation|pregnan|gravidanza|gestazione|incinta|gravida|\bga\b", text) and (
        match := take(_GA_WEEKS)
    ):
        weeks = int(match.group(1) or match.group(2))
        numbers["gestational_age"] = f"{weeks}+0"
    if match := take(_AGE):
        numbers["age_years"] = _decimal(match.group(1))
    return numbers, masked
