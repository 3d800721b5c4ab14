"""The ``cmvcds-answer/1`` document (design.md §6, "The answer to a question").

Composition only arranges what retrieval chose: a summary (a fixed lead naming what was
understood, then the best statement itself), sections by kind, references numbered in order of
first use, the weakest review status of what was used, follow-up questions and the disclaimer.
No clinical sentence is written here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cmvcds.engine.answers.evidence import Evidence
from cmvcds.engine.answers.patient_safety import carries_dose
from cmvcds.engine.answers.vocabulary import Understanding
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.answers import (
    AnswerTexts,
    ItalianTexts,
    QuestionVocabulary,
    ReviewStatus,
    Term,
)

__all__ = [
    "ANSWER_FORMAT",
    "SECTION_ORDER",
    "compose",
    "compose_not_covered",
    "compose_refused",
]

ANSWER_FORMAT = "cmvcds-answer/1"
SECTION_ORDER = ("case", "guideline", "label", "research")
AUDIENCES = ("clinician", "patient")


def _label(term: Term, language: str) -> str:
    return term.label_it if language == "it" and term.label_it else term.label


def _about(understanding: Understanding, vocabulary: QuestionVocabulary) -> str:
    language = understanding.language
    labels = [_label(vocabulary.drugs[d], language) for d in understanding.drugs]
    labels += [_label(vocabulary.populations[p], language) for p in understanding.populations]
    labels += [_label(vocabulary.topics[t], language) for t in understanding.topics]
    return "; ".join(labels) or "CMV"


def _understood(understanding: Understanding, method: str) -> dict[str, Any]:
    out: dict[str, Any] = understanding.to_dict()
    out["method"] = method
    out["unmatched_terms"] = list(understanding.unknown_terms)
    return out


def _text(item: Evidence, audience: str, language: str = "en") -> str | None:
    """The statement for this reader, in the language asked when it has been written in it."""
    if language == "it" and item.text_it:
        return item.plain_it if audience == "patient" else item.text_it
    if audience == "patient":
        return item.plain
    return item.text


def _wording(texts: AnswerTexts, language: str) -> AnswerTexts | ItalianTexts:
    """The fixed wording of the answer in the language asked (English when not written)."""
    return texts.italian if language == "it" and texts.italian is not None else texts


def compose(
    *,
    question: str,
    audience: str,
    understanding: Understanding,
    method: str,
    items: Sequence[Evidence],
    follow_up: Sequence[str],
    knowledge: Knowledge,
    texts: AnswerTexts,
    vocabulary: QuestionVocabulary,
    case: Mapping[str, Any] | None = None,
    dose_boundary: Evidence | None = None,
) -> dict[str, Any]:
    """The answer built from ``items`` (already chosen and ordered, case items first).

    For a patient, every sentence that states a dose (``carries_dose``: an amount, a tablet
    count, a schedule) is left out, whatever produced it, and ``dose_boundary`` (who decides the
    dose) takes the place of the first one left out.
    """
    language = understanding.language
    words = _wording(texts, language)
    used = [(item, text) for item in items if (text := _text(item, audience, language))]
    if not used:  # no plain-language variant chosen: the clinical wording, rather than nothing
        used = [(item, _text(item, "clinician", language) or item.text) for item in items]
    if audience == "patient":
        used = _without_doses(used, dose_boundary, language)
        if not used:
            return compose_not_covered(
                question=question,
                audience=audience,
                understanding=understanding,
                method=method,
                nearest=follow_up,
                knowledge=knowledge,
                texts=texts,
            )
    numbers: dict[str, int] = {}
    sections: dict[str, list[dict[str, Any]]] = {kind: [] for kind in SECTION_ORDER}
    in_reading_order = sorted(used, key=lambda u: SECTION_ORDER.index(u[0].kind))  # stable
    for item, text in in_reading_order:
        refs = [numbers.setdefault(c, len(numbers) + 1) for c in item.citations]
        statement: dict[str, Any] = {
            "id": item.id,
            "text": text,
            "citations": list(item.citations),
            "refs": refs,
            "locator": item.locator,
            "origin": item.origin,
            "review": item.status.value,
            "verified": item.verified,
            "language": "it" if language == "it" and item.text_it else "en",
        }
        if item.status is ReviewStatus.APPROVED:  # shown as approved: by whom, role, when, version
            statement["approved"] = {
                "by": item.review.reviewer,
                "role": item.review.role,
                "on": item.review.date.isoformat() if item.review.date else None,
                "knowledge_version": item.review.knowledge_version,
            }
        if statement["language"] == "it":
            statement["translation"] = item.italian
        if not item.verified and item.note:
            statement["note"] = item.note
        sections[item.kind].append(statement)
    references = []
    for source_id, n in numbers.items():
        source = knowledge.sources[source_id]
        url = source.url or (f"https://doi.org/{source.doi}" if source.doi else None)
        references.append(
            {
                "n": n,
                "id": source_id,
                "citation": source.citation(),
                "url": url,
                "kind": source.kind.value,
                "verified": source.verified,
                "incomplete": _incomplete(source, url),
            }
        )
    review = _review([item for item, _ in used], texts)
    notices = []
    if review["status"] != ReviewStatus.APPROVED.value:  # said once for the whole answer
        status = ReviewStatus(review["status"])
        wording = (
            words.review_status[status.value] if isinstance(words, ItalianTexts) else status.wording
        )
        notices.append(
            words.review_notice.format(
                status=wording, pending=len(review["pending"]), total=len(used)
            )
        )
    if any(not item.verified for item, _ in used):
        notices.append(words.unverified_notice)
    if understanding.unknown_terms and audience == "clinician":
        notices.append(words.unmatched_notice.format(terms=", ".join(understanding.unknown_terms)))
    if isinstance(words, ItalianTexts):
        if any(item.italian == "translated" for item, _ in used):
            notices.append(words.translated_notice)
        if any(not item.text_it for item, _ in used):
            notices.append(words.english_only_notice)
    top_item, top_text = _summary_item(used)
    if top_item.kind == "case" and case is not None:
        lead = words.summary_lead["case"].format(
            case_id=case.get("case_id"), assessed_on=case.get("assessed_on")
        )
    else:
        lead = words.summary_lead[audience].format(about=_about(understanding, vocabulary))
    document: dict[str, Any] = {
        "format": ANSWER_FORMAT,
        "question": question,
        "audience": audience,
        "covered": True,
        "understood": _understood(understanding, method),
        "summary": lead + top_text,
        "sections": [
            {"kind": kind, "title": words.section_titles[kind], "statements": sections[kind]}
            for kind in SECTION_ORDER
            if sections[kind]
        ],
        "references": references,
        "review": review,
        "notices": notices,
        "follow_up": list(follow_up),
        "knowledge": knowledge.stamp(),
        "disclaimer": words.disclaimer[audience],
        "language": language,
    }
    if case is not None:
        document["case"] = {"case_id": case.get("case_id"), "assessed_on": case.get("assessed_on")}
    if audience == "patient":
        document["ask_doctor"] = _ask_doctor(understanding, vocabulary)
    return document


def compose_not_covered(
    *,
    question: str,
    audience: str,
    understanding: Understanding,
    method: str,
    nearest: Sequence[str],
    knowledge: Knowledge,
    texts: AnswerTexts,
) -> dict[str, Any]:
    """The honest answer to a question outside the knowledge: no statement, the nearest questions."""
    return {
        "format": ANSWER_FORMAT,
        "question": question,
        "audience": audience,
        "covered": False,
        "understood": _understood(understanding, method),
        "summary": _wording(texts, understanding.language).not_covered,
        "sections": [],
        "references": [],
        "review": {"status": None, "reviewed_by": None, "reviewed_on": None},
        "notices": [],
        "follow_up": list(nearest),
        "knowledge": knowledge.stamp(),
        "disclaimer": _wording(texts, understanding.language).disclaimer[audience],
        "language": understanding.language,
    }


def compose_refused(
    *,
    question: str,
    audience: str,
    understanding: Understanding,
    method: str,
    knowledge: Knowledge,
    texts: AnswerTexts,
    crisis: bool = False,
) -> dict[str, Any]:
    """The answer to a request to obtain or use a medicine outside medical care: refused, with
    why and whom to ask; nothing cited, no follow-up question. ``crisis``: the question reads as
    self-harm or overdose intent, and the summary is the crisis text (an emergency number and a
    crisis line in the question's language) instead."""
    words = _wording(texts, understanding.language)
    summary = (
        (words.crisis or texts.crisis) if crisis else (words.refused or texts.refused)
    )
    return {
        "format": ANSWER_FORMAT,
        "question": question,
        "audience": audience,
        "covered": False,
        "refused": True,
        "understood": _understood(understanding, method),
        "summary": summary,
        "sections": [],
        "references": [],
        "review": {"status": None, "reviewed_by": None, "reviewed_on": None},
        "notices": [],
        "follow_up": [],
        "knowledge": knowledge.stamp(),
        # A crisis answer speaks to the person who asked, whoever the reader chose: never the
        # clinicians' decision-support disclaimer (fixa23).
        "disclaimer": words.disclaimer["patient" if crisis else audience],
        "language": understanding.language,
    }


def _without_doses(
    used: Sequence[tuple[Evidence, str]], boundary: Evidence | None, language: str
) -> list[tuple[Evidence, str]]:
    """A patient's statements without any that states a dose; who decides the dose in the place
    of the first one left out (once)."""
    kept: list[tuple[Evidence, str]] = []
    placed = any(item is boundary for item, _ in used)
    for item, text in used:
        if not carries_dose(text):
            kept.append((item, text))
        elif boundary is not None and not placed:
            said = _text(boundary, "patient", language) or boundary.plain or boundary.text
            if not carries_dose(said):
                kept.append((boundary, said))
            placed = True
    return kept


def _summary_item(used: Sequence[tuple[Evidence, str]]) -> tuple[Evidence, str]:
    """The statement the summary repeats: the first of the answer's order (the patient's own, then
    the one computed for the question, then the statement about the population asked that is
    closest in meaning to the question)."""
    return used[0]


def _review(items: Sequence[Evidence], texts: AnswerTexts) -> dict[str, Any]:
    """The weakest status of what was used; who approved and when, if all were approved."""
    weakest = min((item.status for item in items), key=lambda s: s.rank)
    out: dict[str, Any] = {"status": weakest.value, "reviewed_by": None, "reviewed_on": None}
    out["counts"] = {s.value: sum(item.status is s for item in items) for s in ReviewStatus}
    # The seed's three steps (Submitted, Under review, Approved), as far as the whole answer got.
    reached = {
        ReviewStatus.DRAFT: 0,
        ReviewStatus.UNDER_REVIEW: 2,
        ReviewStatus.APPROVED: 3,
    }[weakest]
    out["steps"] = [{"step": step, "done": i < reached} for i, step in enumerate(REVIEW_STEPS)]
    out["pending"] = [item.id for item in items if item.status is not ReviewStatus.APPROVED]
    if weakest is ReviewStatus.APPROVED:
        reviewers = sorted({item.review.reviewer for item in items if item.review.reviewer})
        dates = [item.review.date for item in items if item.review.date]
        out["reviewed_by"] = ", ".join(reviewers)
        out["reviewed_on"] = max(dates).isoformat() if dates else None
    return out


#: The review steps of the seed's answer page, in order.
REVIEW_STEPS = ("submitted", "under_review", "approved")


def _incomplete(source: Any, url: str | None) -> list[str]:
    """What a full reference lacks: authors, title, year, and a DOI or URL (the project's own
    standards are documents of this repository and have no address outside it)."""
    missing = [
        name
        for name, value in (
            ("authors", source.authors),
            ("title", source.title),
            ("year", source.year),
        )
        if not value
    ]
    if not url and source.kind.value != "standard":
        missing.append("DOI/URL")
    return missing


def _ask_doctor(understanding: Understanding, vocabulary: QuestionVocabulary) -> list[str]:
    """The "talk to your doctor" lines of the topics and populations asked, in the language asked."""
    italian = understanding.language == "it"
    terms = [vocabulary.topics[name] for name in understanding.topics]
    terms += [vocabulary.populations[name] for name in understanding.populations]
    if not terms:
        terms = [vocabulary.topics["treatment"]]
    asks: list[str] = []
    for term in terms:
        line = (term.ask_doctor_it if italian and term.ask_doctor_it else None) or term.ask_doctor
        if line and line not in asks:
            asks.append(line)
    return asks[:4]
