"""``AnswerEngine``: the index of a knowledge pack, and ``ask`` — question in, answer out.

Building the engine reads the answer tables, generates the table statements, checks that every
population, drug and topic a statement names is in the vocabulary, and indexes everything (BM25
and, with an embedder, vectors). ``ask`` is then a pure function of the question, the audience
and, for a personalised answer, the patient's assessment document.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cmvcds.engine.answers.compose import (
    AUDIENCES,
    compose,
    compose_not_covered,
    compose_refused,
)
from cmvcds.engine.answers.embedding import Embedder
from cmvcds.engine.answers.evidence import Evidence, from_statement
from cmvcds.engine.answers.generate import (
    case_evidence,
    case_populations,
    question_evidence,
    table_evidence,
)
from cmvcds.engine.answers.label_wording import italian_texts
from cmvcds.engine.answers.patient_safety import (
    accidental_extra_dose,
    asks_for_dose,
    asks_to_stop,
    carries_dose,
    own_medicine,
    self_harm,
    stops_on_own,
    unsafe_request,
)
from cmvcds.engine.answers.retrieval import Hit, Ranker, keywords_for, select
from cmvcds.engine.answers.vocabulary import Lexicon, Understanding, normalise, understand
from cmvcds.errors import InputError, KnowledgeError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.answers import (
    AnswerTexts,
    ExampleQuestion,
    QuestionVocabulary,
    ReviewRecord,
    StatementSet,
    TemplateSet,
)

__all__ = ["MAX_QUESTION_CHARS", "AnswerEngine"]

MAX_QUESTION_CHARS = 500
#: Statements per answer (computed ones for the patient or the question come on top).
ANSWER_SIZE = 7
FOLLOW_UPS = 3


@dataclass(frozen=True)
class _Examples:
    questions: tuple[ExampleQuestion, ...]
    ranker: Ranker


class AnswerEngine:
    """Everything needed to answer questions from one knowledge pack."""

    def __init__(
        self,
        knowledge: Knowledge,
        embedder: Embedder | None = None,
        vectors: Mapping[str, NDArray[np.float32]] | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.vocabulary = knowledge.table("answer_vocabulary", QuestionVocabulary)
        self.texts = knowledge.table("answer_texts", AnswerTexts)
        self.templates = knowledge.table("answer_templates", TemplateSet)
        #: The pack's Italian clinical texts, for the statements computed per question.
        self.italian: Mapping[str, str] = knowledge.derived(italian_texts)
        statements = knowledge.table("answer_statements", StatementSet)
        written = [from_statement(s) for s in statements.statements]
        #: Statements an answer states by rule, never retrieved (nor indexed: their words would
        #: shift the BM25 weights of the others).
        self.boundaries = {i.id: i for i in written if i.id in _BOUNDARIES}
        generated = [_by_source_kind(i, knowledge) for i in table_evidence(knowledge, self.templates)]
        written = [_by_source_kind(i, knowledge) for i in written]
        self.items: tuple[Evidence, ...] = (
            *(i for i in written if i.id not in _BOUNDARIES),
            *(i for i in generated if not i.id.startswith((_ADMINISTRATION, _COUNT_HOLD))),
        )
        #: What to do when an infant's blood count falls: added by rule when the question asks
        #: (``_count_hold``), never retrieved (indexed, it would shift the ranking of the other
        #: monitoring statements).
        self.count_holds: tuple[Evidence, ...] = tuple(
            i for i in generated if i.id.startswith(_COUNT_HOLD)
        )
        #: How each drug is given (``drug-administration``): added by rule when the question asks
        #: how, or names what a line says (probenecid, saline), never retrieved (indexed, their
        #: many similar lines would shift the ranking of everything else).
        self.administration: tuple[Evidence, ...] = tuple(
            i for i in generated if i.id.startswith(_ADMINISTRATION)
        )
        self._check_concepts()
        self.ranker = Ranker(
            [item.search_text() for item in self.items],
            [
                # The Italian text joins the keywords, so that Italian words reach it by BM25.
                f"{keywords_for(i.populations, i.drugs, i.topics, self.vocabulary)} {i.text_it or ''}"
                for i in self.items
            ],
            embedder,
            vectors,
        )
        examples = self.texts.examples
        self.examples = _Examples(
            examples,
            Ranker(
                [e.question for e in examples],
                [keywords_for(e.populations, e.drugs, e.topics, self.vocabulary) for e in examples],
                embedder,
                vectors,
            ),
        )
        self.lexicon = Lexicon.build(self.vocabulary, corpus_words=self.ranker.words())
        self.method = (
            f"SQLite FTS5 BM25 + semantic similarity ({embedder.name}), reciprocal-rank fusion"
            if embedder is not None
            else "SQLite FTS5 BM25 only (no sentence-embedding model installed)"
        )

    def snapshot(self) -> dict[str, Any]:
        """The built index as picklable data for a cache kept by the caller: everything but the
        knowledge pack and the embedding model, the in-memory FTS5 databases as images
        (``Ranker.state``; ``restore``)."""
        return {
            "vocabulary": self.vocabulary,
            "texts": self.texts,
            "templates": self.templates,
            "italian": dict(self.italian),
            "boundaries": self.boundaries,
            "items": self.items,
            "administration": self.administration,
            "count_holds": self.count_holds,
            "ranker": self.ranker.state(),
            "examples": self.examples.ranker.state(),
            "lexicon": self.lexicon,
            "method": self.method,
        }

    @classmethod
    def restore(
        cls, knowledge: Knowledge, embedder: Embedder | None, snapshot: Mapping[str, Any]
    ) -> AnswerEngine:
        """The engine ``snapshot()`` described, for ``knowledge`` (the pack it was built from:
        the caller keys its cache by the pack's digest), without generating, normalising,
        indexing, checking or embedding anything again. ``ValueError`` when a part is not usable
        (an FTS5 image that does not match its digest, another embedder): rebuild then."""
        engine = cls.__new__(cls)
        engine.knowledge = knowledge
        engine.vocabulary = snapshot["vocabulary"]
        engine.texts = snapshot["texts"]
        engine.templates = snapshot["templates"]
        engine.italian = snapshot["italian"]
        engine.boundaries = snapshot["boundaries"]
        engine.items = snapshot["items"]
        engine.administration = snapshot["administration"]
        if "count_holds" not in snapshot:
            raise ValueError("a snapshot of an older engine (no count_holds): rebuild")
        engine.count_holds = snapshot["count_holds"]
        engine.ranker = Ranker.restore(snapshot["ranker"], embedder)
        engine.examples = _Examples(
            engine.texts.examples, Ranker.restore(snapshot["examples"], embedder)
        )
        engine.lexicon = snapshot["lexicon"]
        engine.method = snapshot["method"]
        return engine

    def vectors(self) -> dict[str, NDArray[np.float32]]:
        """Every text vector computed, by key (for a cache the caller keeps)."""
        return {**self.ranker.vectors(), **self.examples.ranker.vectors()}

    def _check_concepts(self) -> None:
        for item in (
            *self.items,
            *self.administration,
            *self.count_holds,
            *self.boundaries.values(),
        ):
            for group, names in (
                (self.vocabulary.populations, item.populations),
                (self.vocabulary.drugs, item.drugs),
                (self.vocabulary.topics, item.topics),
            ):
                unknown = [n for n in names if n not in group]
                if unknown:
                    raise KnowledgeError(
                        f"answers: statement {item.id!r} names {unknown} not in answers/vocabulary.yaml"
                    )
            missing = [c for c in item.citations if c not in self.knowledge.sources]
            if missing:
                raise KnowledgeError(
                    f"answers: statement {item.id!r} cites unknown sources {missing}"
                )

    def understand(self, question: str) -> Understanding:
        return understand(question, self.lexicon)

    def ask(
        self,
        question: str,
        audience: str | None = "clinician",
        assessment: Mapping[str, Any] | None = None,
        reviews: Mapping[str, ReviewRecord] | None = None,
    ) -> dict[str, Any]:
        """The ``cmvcds-answer/1`` document for ``question`` (design.md §6).

        ``reviews`` overrides the pack's review records by statement (or template) id: the
        registry's, read by the adapter (``registry.services.reviews.overlay``).
        """
        question = " ".join(question.split())
        if not question:
            raise InputError("the question is empty", field="question")
        if len(question) > MAX_QUESTION_CHARS:
            raise InputError(
                f"the question has {len(question)} characters; at most {MAX_QUESTION_CHARS}",
                field="question",
            )
        understanding = self.understand(question)
        if audience is None:  # not chosen by the reader: as the wording tells (understood.audience)
            audience = understanding.audience
        if audience not in AUDIENCES:
            raise InputError(
                f"audience {audience!r} is not one of {', '.join(AUDIENCES)}", field="audience"
            )
        normalised = normalise(question)
        if self_harm(normalised):
            # "Give me a lethal dose", "I want to kill myself with my tablets": whoever asks, an
            # emergency number and a crisis line, never content (fix15b, probe15 S3).
            return compose_refused(
                question=question,
                audience=audience,
                understanding=understanding,
                method=self.method,
                knowledge=self.knowledge,
                texts=self.texts,
                crisis=True,
            )
        # "I accidentally took two doses this morning": told to contact the doctor or pharmacist
        # now (and emergency care if unwell) first, as a patient (fixa23).
        extra_dose = accidental_extra_dose(normalised)
        if (
            audience == "clinician"
            and assessment is None
            and (
                extra_dose
                or (
                    (asks_for_dose(normalised) or carries_dose(question) or asks_to_stop(normalised))
                    and own_medicine(normalised)
                )
            )
        ):
            # A patient asking about their own dose or stopping their own medicine is answered as
            # a patient whatever the reader chose: a patient is never given a dose (README). With
            # a case the reader holds the case's regimen already, and the choice stands (ADR 0033).
            audience = "patient"
        if unsafe_request(normalised):
            # "foscarnet without a prescription", "comprare ganciclovir online": not answered.
            return compose_refused(
                question=question,
                audience=audience,
                understanding=understanding,
                method=self.method,
                knowledge=self.knowledge,
                texts=self.texts,
            )
        case_items = (
            case_evidence(assessment, self.templates, self.italian)
            if assessment is not None
            else []
        )
        if audience != "patient":  # the clinician reads the alert itself, not the patient's line
            case_items = [i for i in case_items if i.id != _CONTACT_NOW]
        if assessment is not None and not understanding.populations:
            # A personalised answer keeps to the patient's context: no HIV retinitis or
            # transplant statements for a pregnancy case.
            understanding = replace(understanding, populations=case_populations(assessment))
        if not case_items and not (extra_dose and audience == "patient") and (
            not self._in_scope(understanding)
            or _unknown_treatment(understanding)
            or self._uncovered(normalised)
        ):
            return self._not_covered(question, audience, understanding)
        computed = _by_fit(
            question_evidence(self.knowledge, self.templates, understanding, self.italian),
            understanding,
            self.lexicon.expand_populations(understanding.populations),
        )
        # A patient asking only for a dose ("what dose do I take?", "devo prendere 2 compresse?")
        # is answered by who decides it (the boundary statement leads); one asking about "high-dose" valacyclovir and their
        # kidneys asks whether it is safe, not how much.
        asks_dose = audience == "patient" and (
            set(understanding.topics) == {"dose"}
            or asks_for_dose(normalised)
            or (carries_dose(question) and own_medicine(normalised))
        )
        if audience == "patient" and "dose" in understanding.topics and not asks_dose:
            topics = tuple(t for t in understanding.topics if t != "dose")
            understanding = replace(understanding, topics=topics)
        populations = self.lexicon.expand_populations(understanding.populations)
        hits = select(self.items, self.ranker, understanding, self.lexicon, 3 * ANSWER_SIZE)
        if audience == "patient":
            hits = [(i, h) for i, h in hits if not i.id.startswith(_DOSING_IDS)]
        hits = hits[:ANSWER_SIZE]
        chosen = [
            item for item, _ in sorted(hits, key=lambda p: _closest(p, populations, understanding))
        ]
        computed_drugs = {
            d for item in computed for d in item.drugs if item.id.startswith("dose-at-crcl")
        }
        chosen = [
            i
            for i in chosen
            if not (i.id.startswith("drug-regimens:") and set(i.drugs) & computed_drugs)
        ]
        # "Can I stop valganciclovir without asking my doctor?", "Can I stop my valganciclovir
        # because I feel tired?": told not to, first. Asking whether a course ends ("my
        # amniocentesis was negative: can I stop?") is answered by the sources' stop rule.
        symptom = bool(_SYMPTOM.search(normalised))
        stops = audience == "patient" and (
            stops_on_own(normalised) or (symptom and asks_to_stop(normalised))
        )
        extra_dose = extra_dose and audience == "patient"
        if (
            not chosen
            and not computed
            and not case_items
            and not asks_dose
            and not stops
            and not extra_dose
        ):
            return self._not_covered(question, audience, understanding)
        leading, trailing = _leading_computed(computed, understanding)
        # What answers the question before anything general: the dose with the co-medication the
        # question names (letermovir with cyclosporine: 240 mg, not the 480 mg of the table);
        # the protocol's window when the question is about a later pregnancy.
        # The label's other interactions with a co-medication named follow the dose (letermovir
        # with voriconazole: 480 mg, and voriconazole levels fall; review11 M2).
        changes, named = self._co_medication_doses(understanding)
        first = [*changes, *self._late_pregnancy(understanding), *self._count_hold(understanding)]
        chosen = [i for i in chosen if i not in first and i not in named]
        ordered = [
            *_relevant_case(case_items, understanding),
            *first,
            *leading,
            *chosen[:1],
            *named,
            *self._how_given(understanding),
            *trailing,
            *chosen[1:],
        ]
        if audience == "patient":  # no dosing instructions to patients: their doctor doses
            ordered = [i for i in ordered if not i.id.startswith(_DOSING_IDS)]
            if asks_dose:
                ordered = [self.boundaries[_PATIENT_DOSE], *ordered]
            if stops:
                # "Can I stop my valganciclovir because I feel tired?": do not stop on your own
                # first, then what the symptom may mean (S4).
                boundary = [self.boundaries[_PATIENT_STOP]]
                if symptom and (
                    not understanding.drugs or set(understanding.drugs) & _MARROW_DRUGS
                ):
                    boundary.append(self.boundaries[_PATIENT_SYMPTOMS])
                ordered = [*boundary, *(i for i in ordered if i not in boundary)]
            if extra_dose:
                contact = self.boundaries[_PATIENT_EXTRA_DOSE]
                ordered = [contact, *(i for i in ordered if i is not contact)]
            # "Contact your doctor now" before anything else (review11 S4); the alert it stands
            # for states doses and is left out for a patient.
            ordered = sorted(ordered, key=lambda i: (i.id != _CONTACT_NOW, not i.urgent))
            if not ordered:
                return self._not_covered(question, audience, understanding)
        if reviews:
            ordered = [_reviewed(item, reviews) for item in ordered]
        return compose(
            question=question,
            audience=audience,
            understanding=understanding,
            method=self.method,
            items=ordered,
            follow_up=self.follow_up(understanding),
            knowledge=self.knowledge,
            texts=self.texts,
            vocabulary=self.vocabulary,
            case=assessment,
            dose_boundary=self.boundaries[_PATIENT_DOSE],
        )

    def _co_medication_doses(
        self, understanding: Understanding
    ) -> tuple[list[Evidence], list[Evidence]]:
        """The label's interactions of a drug asked about with a co-medication the question names
        ("letermovir with cyclosporine"), as (those that lead, those that follow the regimen):
        a dose change leads; for a dose question an interaction that does not change the dose
        follows the regimen, which answers the dose (review11 M2: "the dose of letermovir with
        voriconazole" never said that voriconazole levels fall)."""
        if not understanding.drugs or not {"dose", "interactions"} & set(understanding.topics):
            return [], []
        words = set(normalise(understanding.question).split())
        named = [
            item
            for item in self.items
            if item.co_drugs
            and item.drugs[:1]
            and item.drugs[0] in understanding.drugs
            and any(_names(words, co) for co in item.co_drugs)
        ]
        if "dose" in understanding.topics:
            if not named:
                # "What is the letermovir prophylaxis dose?" names no co-medication: the label's
                # dose changes with one (letermovir 240 mg with ciclosporin) follow the regimen
                # (fix15b, probe15 B3).
                return [], [
                    item
                    for item in self.items
                    if item.co_drugs
                    and item.changes_dose
                    and item.drugs[:1]
                    and item.drugs[0] in understanding.drugs
                ]
            return (
                [i for i in named if i.changes_dose],
                [i for i in named if not i.changes_dose],
            )
        return sorted(named, key=lambda i: not i.changes_dose), []

    def _how_given(self, understanding: Understanding) -> list[Evidence]:
        """How a drug asked about is given: every line when the question asks how (or about
        hydration), else the lines that share a rare word with it ("how is probenecid given?")."""
        if not understanding.drugs:
            return []
        text = normalise(understanding.question)
        every = bool(_HOW_GIVEN.search(text))
        words = {
            t for t in understanding.tokens if len(t) >= 5 and t not in self.lexicon.ignorable
        } - set(understanding.drugs)
        out = []
        for item in self.administration:
            if item.drugs[0] not in understanding.drugs:
                continue
            line = set(re.findall(r"[a-z]+", normalise(item.text.split("): ", 1)[-1])))
            if every or words & line:
                out.append(item)
        return out

    def _count_hold(self, understanding: Understanding) -> list[Evidence]:
        """What to do when an infant's blood count falls (``congenital-count-hold``) when the
        question asks about a count falling, gives a count, or asks about a hold ("neutrophils
        below 500", "ANC 400: hold?",
        "i neutrofili scendono sotto 500"): it leads (fix15b, probe15 S5)."""
        if "congenital" not in understanding.populations or "toxicity" not in understanding.topics:
            return []
        if understanding.drugs and not set(understanding.drugs) & _MARROW_DRUGS:
            return []
        if not _COUNT_FALLS.search(normalise(understanding.question)):
            return []
        return list(self.count_holds)

    def _late_pregnancy(self, understanding: Understanding) -> list[Evidence]:
        """The AIFA window (onset before 24+0) when the question places the infection or the
        start of treatment after it ("third trimester", "terzo trimestre", week 30)."""
        if "pregnancy" not in understanding.populations:
            return []
        about_treatment = "valacyclovir" in understanding.drugs or bool(
            {"treatment", "prophylaxis", "efficacy", "eligibility"} & set(understanding.topics)
        )
        if not about_treatment or "risk" in understanding.topics:
            return []  # "If I catch CMV in the third trimester, is my baby more likely infected?"
        window = next((i for i in self.items if i.id.startswith(_WINDOW)), None)
        if window is None:
            return []
        text = normalise(understanding.question)
        late = bool(_LATE_PREGNANCY.search(text))
        ga = understanding.numbers.get("gestational_age")
        if isinstance(ga, str) and "valacyclovir" in understanding.drugs:
            weeks = int(ga.split("+")[0])
            limit = re.search(r"(\d+)\+", window.text)
            late = late or (limit is not None and weeks >= int(limit.group(1)))
        return [window] if late else []

    def _uncovered(self, normalised_question: str) -> bool:
        """The question names a subject the knowledge holds nothing about (vocabulary
        ``uncovered_subjects``: breastfeeding, making a medicine)."""
        subjects = self.vocabulary.uncovered_subjects
        if not subjects:
            return False
        pattern = r"(?<![a-z])(?:" + "|".join(re.escape(normalise(s)) for s in subjects) + r")(?![a-z])"
        return bool(re.search(pattern, normalised_question))

    def _in_scope(self, u: Understanding) -> bool:
        """Inside cmvcds' field: it names CMV or a drug, or a population or topic and nothing unknown."""
        if u.other_infection and not u.drugs:
            return False  # "symptoms of varicella in pregnancy": another virus
        if _GENE_MUTATION.search(u.question.lower()):
            return True  # "UL97:M460V found: which antiviral now?" (its calls answer it)
        if u.anchored:
            # "Can you catch CMV from a cat?": CMV and nothing the knowledge knows about it.
            return bool(u.populations or u.drugs or u.topics) or not u.unknown_terms
        if u.drugs:
            # Aciclovir and valaciclovir treat herpes too: alone, with words the knowledge does not
            # know and no population of cmvcds ("herpes labiale"), the question is not about CMV.
            herpes_only = set(u.drugs) <= _HERPES_DRUGS
            return not (herpes_only and u.unknown_terms and not u.populations)
        return bool(u.populations or u.topics) and not u.unknown_terms

    def _not_covered(
        self, question: str, audience: str, understanding: Understanding
    ) -> dict[str, Any]:
        return compose_not_covered(
            question=question,
            audience=audience,
            understanding=understanding,
            method=self.method,
            nearest=self.nearest(understanding),
            knowledge=self.knowledge,
            texts=self.texts,
        )

    def nearest(self, understanding: Understanding, count: int = FOLLOW_UPS) -> list[str]:
        """The example questions closest to this one (for a question the knowledge does not cover)."""
        terms = [t for t in understanding.tokens if t not in self.lexicon.ignorable]
        hits = self.examples.ranker.rank(understanding.semantic_query, terms)
        language = understanding.language
        chosen = [self.examples.questions[h.index].in_language(language) for h in hits[:count]]
        for example in self.examples.questions:
            if len(chosen) >= count:
                break
            if example.in_language(language) not in chosen:
                chosen.append(example.in_language(language))
        return chosen

    def follow_up(self, understanding: Understanding, count: int = FOLLOW_UPS) -> list[str]:
        """Answerable questions on neighbouring topics for the same drugs or populations."""
        populations = self.lexicon.expand_populations(understanding.populations)
        neighbours: set[str] = set()
        for topic in understanding.topics:
            neighbours.update(self.vocabulary.topics[topic].neighbours)
        neighbours -= set(understanding.topics)
        asked = normalise(understanding.question)
        scored: list[tuple[int, int, str]] = []
        for order, example in enumerate(self.examples.questions):
            if asked in (normalise(example.question), normalise(example.question_it or "")):
                continue
            example_populations = self.lexicon.expand_populations(example.populations)
            if populations and example_populations and not populations & example_populations:
                continue
            if (
                understanding.drugs
                and example.drugs
                and not set(example.drugs) & set(understanding.drugs)
            ):
                continue
            score = (
                3 * bool(example_populations & populations)
                + 2 * bool(set(example.drugs) & set(understanding.drugs))
                + 2 * bool(set(example.topics) & neighbours)
                - (3 if set(example.topics) <= set(understanding.topics) else 0)
            )
            scored.append((-score, order, example.in_language(understanding.language)))
        scored.sort()
        return [q for _, _, q in scored[:count]]


#: Topics of a narrower situation: a statement about an infected fetus answers "the treatment in
#: pregnancy" only after those about preventing fetal infection, one about resistance or a drug
#: interaction only after the others, unless the question names it (on the labelled set, adding
#: resistance took top-1 from 84.1 % to 85.0 %; judging by an item's first topic only: 84.5 %).
_NARROW_TOPICS = frozenset({"fetal-infection", "resistance", "interactions"})

#: Weight of the fused BM25 + semantic rank score (at most ~0.03) against the cosine similarity
#: in the order of the "In short"; 10 was best on the labelled set (3: 62.3 %, 10: 63.2 %,
#: 20: 61.4 % top-1; similarity alone: 61.4 %).
FUSED_WEIGHT = 10


def _closest(
    pair: tuple[Evidence, Hit], populations: frozenset[str], understanding: Understanding
) -> tuple[int, int, int, int, int, int, int, int, int, int, float, int]:
    """Chosen statements in the order the "In short" should take them: about the population
    asked first (and, when the question names a transplanted organ, not about another organ only:
    the kidney IMPACT trial does not answer a heart-transplant question; a paediatric label row
    does not lead when the question names no child) (for a treatment question naming none, the statements about no population in
    particular that concern only the drugs asked, if any); for a dose question its regimen (the dose
    itself) first, unless it asks how the dose is followed; a study the question names by its
    author; then closest in meaning to the question (cosine similarity plus the weighted fused
    rank score). A treatment question about a population whose protocol states a regimen (the
    AIFA valacyclovir protocol in pregnancy) is answered by that regimen first. Statements on a
    narrower situation (an infected fetus, resistance, a drug interaction) come after the others
    unless the question asks about it. Among equals, a statement about the population asked alone
    (stem-cell transplant) comes before one shared with others (transplant recipients of any
    kind)."""
    item, hit = pair
    topics = understanding.topics
    drugs = set(understanding.drugs)
    fit = bool(populations and set(item.populations) & populations)
    general = (
        not populations
        and _plain_treatment(topics)
        and not item.populations
        and (not drugs or set(item.drugs) <= drugs)
    )
    # About the population asked alone (HSCT, not "transplant recipients" of either kind).
    only_asked = fit and set(item.populations) <= populations
    dose = "dose" in topics and "monitoring" not in topics
    # "How will I know if my baby has been infected?" asks for the test, not the fetal treatment.
    narrow_asked = set() if "diagnosis" in topics else set(topics)
    return (
        -int(fit or general),
        int(_other_organ(item, understanding)),
        int(_children_unasked(item, understanding)),
        -int(dose and item.id.startswith("drug-regimens:")),
        # A regimen with a dose before a referral ("specialist review") for a dose question.
        -int(dose and item.states_dose),
        -int(fit and _plain_treatment(topics) and item.id.startswith(_PROTOCOL_REGIMENS)),
        -int(_names_study(item, understanding)),
        int(bool(set(item.topics) & _NARROW_TOPICS - narrow_asked)),
        -len(set(item.topics) & _aspects(topics)),
        -int(only_asked),
        -(hit.similarity if hit.similarity is not None else 0.0) - FUSED_WEIGHT * hit.score,
        hit.bm25_rank or 10**6,
    )


#: A transplanted organ named in a question or a statement (normalised text).
_TRANSPLANT_ORGANS = {
    "kidney": r"kidney|renal transplant|rene|renale|reni",
    "heart": r"heart|cuore|cardiac|cardiaco",
    "liver": r"liver|hepatic transplant|fegato|epatico",
    "lung": r"lung|polmone|polmoni|polmonare",
    "pancreas": r"pancreas",
    "intestine": r"intestin\w*|small bowel",
}
_ORGAN_PATTERNS = {
    organ: re.compile(rf"(?<![a-z])(?:{words})(?![a-z])")
    for organ, words in _TRANSPLANT_ORGANS.items()
}
#: An organ as a transplant ("heart transplant", "trapianto di cuore", "kidney recipients").
_TRANSPLANT_WORD = re.compile(r"(?<![a-z])(?:transplant\w*|recipients?|trapiant\w*|graft)(?![a-z])")


def _organs(text: str) -> frozenset[str]:
    """The transplanted organs ``text`` (normalised) names, when it speaks of a transplant."""
    if not _TRANSPLANT_WORD.search(text):
        return frozenset()
    return frozenset(o for o, pattern in _ORGAN_PATTERNS.items() if pattern.search(text))


def _other_organ(item: Evidence, understanding: Understanding) -> bool:
    """The question names a transplanted organ and the statement is about other organs only
    (fix15b, probe15 B1)."""
    asked = _organs(normalise(understanding.question))
    if not asked:
        return False
    named = _organs(normalise(item.text))
    return bool(named) and not named & asked


_PAEDIATRIC = re.compile(r"(?<![a-z])(?:pediatric|paediatric|pediatrico|pediatrica)(?![a-z])")
_CHILD = re.compile(
    r"(?<![a-z])(?:child\w*|kids?|infants?|bab(?:y|ies)|newborns?|neonat\w*|pediatric|paediatric"
    r"|adolescen\w*|teen\w*|years? old|bambin\w*|figli\w*|lattant\w*|pediatric\w*|ragazz\w*"
    r"|anni)(?![a-z])"
)


def _children_unasked(item: Evidence, understanding: Understanding) -> bool:
    """A label row for children (its text says paediatric) when the question names no child."""
    if not item.id.startswith("drug-regimens:"):
        return False
    text = normalise(understanding.question)
    return bool(_PAEDIATRIC.search(normalise(item.text))) and not _CHILD.search(text)


def _names_study(item: Evidence, understanding: Understanding) -> bool:
    """The question names the first author of a study the statement cites ("Shahar-Nissan")."""
    words = {t.replace("-", "") for t in understanding.tokens}
    for citation in item.citations:
        author = re.match(r"[a-z]+", citation)
        if author and len(author.group()) >= 5 and author.group() in words:
            return True
    return False


def _leading_computed(
    computed: Sequence[Evidence], understanding: Understanding
) -> tuple[list[Evidence], list[Evidence]]:
    """Computed statements that answer the question itself (a dose at the CrCl asked, the
    amniocentesis date when the date is asked) lead; a date computed from a gestational age given
    only as context ("I'm 10 weeks pregnant: what does it mean for my baby?") and the table's
    lists of resistance mutations follow the statement that answers it."""
    asked_date = bool({"timing"} & set(understanding.topics)) or bool(
        _AMNIOCENTESIS.search(normalise(understanding.question))
    )
    # "Which UL97 mutations…?", "What does A809V mean for foscarnet?" are answered by the list.
    asked_list = bool(_ASKS_MUTATIONS.search(understanding.question))
    # "Does UL97 C592G cause high-level resistance?", "Which drug for UL97 M460V?": the named
    # mutation's own calls answer it, before the gene's whole list (fix15b, probe15 B2).
    calls = [i for i in computed if i.id.startswith(_CALLS)]
    leading = [
        i
        for i in computed
        if (not i.id.startswith(_LISTS) or (asked_list and not calls))
        and (not i.id.startswith(_DATES) or asked_date)
        and i not in calls
    ]
    leading = [*calls, *leading]
    return leading, [i for i in computed if i not in leading]


_AMNIOCENTESIS = re.compile(r"amniocentes[ie]s?")
#: A question for the mutations themselves: which/what/quali mutations, or one named (A809V).
_ASKS_MUTATIONS = re.compile(
    r"(?i)\b(?:which|what|list|quali|quale|elenco)\b.{0,40}\b(?:mutations?|mutazion[ei]|variants?"
    r"|variant[ei])\b|\b[ACDEFGHIKLMNPQRSTVWY]\d{2,4}[ACDEFGHIKLMNPQRSTVWY]\b"
)
_DATES = ("amniocentesis-after-onset:",)
#: The table's lists (every resistance mutation of a gene for a drug) complete an answer; the
#: statement on what to do leads.
_LISTS = ("resistance-mutations:",)
#: A mutation named with its gene ("UL97 M460V"): inside cmvcds' field.
_GENE_MUTATION = re.compile(r"(?<![a-z0-9])ul\d{2,3}[\s:]*[a-z]\d{1,4}[a-z*](?![a-z0-9])")
#: A named mutation's calls per drug (``resistance_lists.mutation_calls``).
_CALLS = ("resistance-mutation-call:",)


def _plain_treatment(topics: Sequence[str]) -> bool:
    """A question about the treatment itself ("what is the treatment...?"), not about its
    eligibility, timing, evidence or the treatment of an infected fetus."""
    return "treatment" in topics and set(topics) <= _REGIMEN_TOPICS


#: Topics that say what about a treatment is asked (its resistance, its efficacy...): a statement
#: on that aspect answers before one on the treatment in general (duration and diagnosis words
#: are too common in questions about other things to count here: 74.5 % top-1 with them).
_SPECIFIC_TOPICS = frozenset(
    {
        "resistance",
        "efficacy",
        "mechanism",
        "risk",
        "herpesviruses",
        "maintenance",
        "route",
        "high-level-resistance",
        "low-level-resistance",
        "stop-rule",
        "no-amniocentesis",
    }
)

_REGIMEN_TOPICS = frozenset({"treatment", "prophylaxis", "dose", "duration"})


def _aspects(topics: Sequence[str]) -> set[str]:
    """The aspects a question asks about, as statement topics: a question on when a treatment
    stops ("fino a quando", "how long") asks for the statements on its duration/stopping rule."""
    asked = set(topics) & _SPECIFIC_TOPICS
    return asked | {"duration"} if "stop-rule" in asked else asked


#: Organ words of a question and of a regimen's description (kidney, heart, liver).
_ORGANS = {
    "kidney": ("kidney", "renal transplant", "rene", "renale"),
    "heart": ("heart", "cuore", "cardiac", "cardiaco"),
    "liver": ("liver", "fegato", "epatico"),
}


def _by_fit(
    items: Sequence[Evidence], understanding: Understanding, populations: frozenset[str]
) -> list[Evidence]:
    """Computed statements, those for the population and organ asked about first.

    A transplant question at a CrCl is answered by the transplant rows (prophylaxis of the organ
    named, then pre-emptive therapy) before the retinitis induction row, which is for HIV/AIDS.
    """
    asked = normalise(understanding.question)

    def fit(item: Evidence) -> int:
        text = item.text.lower()
        score = 2 * bool(populations and set(item.populations) & populations)
        score += 3 * ("dose" in understanding.topics and item.id.startswith("dose-at-crcl:"))
        for words in _ORGANS.values():
            named = any(w in asked for w in words)
            if named and words[0] in text:
                score += 2
            elif not named and words[0] in text and "transplant" in text:
                score -= 1
        if "retinitis" in text and "hiv" not in populations and "retinitis" not in asked:
            score -= 2 if populations else 0
        if ("preemptive" in understanding.topics) == ("pre-emptive" in text):
            score += 1
        return -score

    return sorted(items, key=fit)


#: Words that name a treatment the vocabulary does not know (remdesivir, brincidofovir,
#: hyperimmune globulin, a monoclonal antibody).
_TREATMENT_WORD = re.compile(r"(?:vir|mab|globulin[ae]?|immunoglobulin[ae]?|globuline)$")


def _unknown_treatment(understanding: Understanding) -> bool:
    """The question is about a treatment the knowledge does not know and names none it knows
    ("What is the dose of remdesivir for CMV?"): not covered, rather than an unrelated answer."""
    return not understanding.drugs and any(
        _TREATMENT_WORD.search(t) for t in understanding.unknown_terms
    )


def _names(words: set[str], drug: str) -> bool:
    """Whether a question's words name ``drug`` (its Italian ending too: ciclosporin-a)."""
    name = normalise(drug)
    if " " in name:
        return name in " ".join(sorted(words))
    stem = name[:-1] if name[-1] in "aeio" else name  # carbamazepine / carbamazepina
    return any(w == name or (w.startswith(stem) and len(w) - len(stem) <= 2) for w in words)


#: Generated statements of how a drug is given (added by rule: ``AnswerEngine._how_given``).
_ADMINISTRATION = "drug-administration:"
#: A question for how a drug is given: its administration, infusion, hydration.
_HOW_GIVEN = re.compile(
    r"(?<![a-z])(?:how (?:is|are|do|should|to)\b.{0,40}\b(?:given|administered|infused|taken|give"
    r"|administer|infuse|take)|administration|administer\w*|infusion|infuse|hydrat\w*|prehydrat\w*"
    r"|come si (?:somministra|infonde|prende|assume|d[aà])|somministrazion\w*|infusione"
    r"|idrata\w*|preidrata\w*)(?![a-z])"
)
#: The AIFA protocol's window statement (generated: ``pregnancy-prevention-window:aifa``).
_WINDOW = "pregnancy-prevention-window:"
#: A later pregnancy than the protocol's window (onset before 24+0).
_LATE_PREGNANCY = re.compile(
    r"(?<![a-z])(?:(?:second|third|2nd|3rd|last) trimester|(?:secondo|terzo|ultimo) trimestre"
    r"|late (?:in )?pregnancy|tarda gravidanza|fine (?:della )?gravidanza)(?![a-z])"
)

#: Antivirals also used for other herpesviruses than CMV.
_HERPES_DRUGS = frozenset({"acyclovir", "valacyclovir"})

#: Statements that instruct a dose (generated from the regimen tables or for the question's CrCl).
_DOSING_IDS = (
    "drug-regimens:",
    "dose-at-crcl:",
    "dose-for-weight:",
    "pregnancy-prevention-regimen:",
)
#: Who decides a patient's dose (no dosing instructions to patients): the answer to a patient's
#: dose question, never retrieved for anything else.
_PATIENT_DOSE = "patient-dose-set-by-prescriber"
_PATIENT_STOP = "patient-do-not-stop-on-own"
_PATIENT_SYMPTOMS = "patient-report-symptoms"
_COUNT_HOLD = "congenital-count-hold:"
#: A blood count falling, below a limit, or a hold asked about (normalised text).
_COUNT_FALLS = re.compile(
    r"(?<![a-z])(?:below|under|fall\w*|fell|drop\w*|low|lower|decreas\w*|hold\w*|held|withh\w*"
    r"|pause\w*|interrupt\w*|sotto|scend\w*|cal\w*|bass\w*|sospend\w*|sospes\w*|interromp\w*"
    r"|(?:neutrophil\w*|neutrofil\w*|anc)\D{0,20}\d)(?![a-z])"
)
#: A symptom given as the reason to stop or skip ("because I feel tired", "mi sento stanca").
_SYMPTOM = re.compile(
    r"(?<![a-z])(?:tired\w*|fatigue\w*|exhaust\w*|weak\w*|sick|unwell|nause\w*|vomit\w*"
    r"|diarrh\w*|rash\w*|dizz\w*|headache\w*|fever\w*|side effects?|stanc\w*"
    r"|affaticat\w*|debol\w*|nause\w*|vomit\w*|diarrea|febbre|mal di testa|effetti collaterali"
    r"|effetti indesiderati|sto male)(?![a-z])"
)
#: What a patient who took an extra dose by mistake does now (fixa23).
_PATIENT_EXTRA_DOSE = "patient-extra-dose-contact-now"
_BOUNDARIES = frozenset({_PATIENT_DOSE, _PATIENT_STOP, _PATIENT_SYMPTOMS, _PATIENT_EXTRA_DOSE})
#: Drugs whose marrow toxicity a symptom may signal (``patient-report-symptoms``).
_MARROW_DRUGS = frozenset({"ganciclovir", "valganciclovir"})
#: A patient's line to contact their doctor now about a critical alert (``case_evidence``).
_CONTACT_NOW = "case:alert-contact"
#: Regimens stated by a population's protocol (computed from its tables; see templates.yaml).
_PROTOCOL_REGIMENS = ("pregnancy-prevention-regimen:",)


def _reviewed(item: Evidence, reviews: Mapping[str, ReviewRecord]) -> Evidence:
    """``item`` with the overlay's record for it (a generated one: its template's), if any."""
    if item.origin == "case":  # the patient's own sentences: reviewed as the case templates
        return item
    record = reviews.get(item.id) or reviews.get(item.id.split(":", 1)[0])
    return item if record is None else replace(item, review=record)


def _relevant_case(items: Sequence[Evidence], understanding: Understanding) -> list[Evidence]:
    """The patient's own items: critical alerts (and a patient's line to contact the doctor now)
    first, whatever is asked (review11 S4, M3); decisions and regimens always; dates and other
    alerts when asked for (a dose question: the dose alerts)."""
    urgent = [i for i in items if i.urgent]
    always = [
        i for i in items if i.id.startswith(("case:decision", "case:regimen", "case:missing"))
    ]
    asked = set(understanding.topics)
    rest = [
        i
        for i in items
        if i not in always and not i.urgent and (not asked or asked & set(i.topics))
    ]
    return [*urgent, *always, *rest]


def _by_source_kind(item: Evidence, knowledge: Knowledge) -> Evidence:
    """A statement headed "From the drug label" that cites no label is headed by what it cites
    (fix15b, probe15 B6: the off-label trial regimens, valganciclovir 16 mg/kg every 12 h of
    Kimberlin 2015, were shown as label text): research when it cites research, else guideline."""
    if item.kind != "label" or not item.citations:
        return item
    kinds = {knowledge.sources[c].kind.value for c in item.citations if c in knowledge.sources}
    if not kinds or "label" in kinds:
        return item
    return replace(item, kind="research" if "research" in kinds else "guideline")
