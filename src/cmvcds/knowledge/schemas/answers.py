"""Schemas of the answer knowledge: evidence statements, generated-statement templates, the
question vocabulary (English and Italian synonyms) and the answerable example questions.

A statement is a short paraphrase of one source (never copied text) with its kind (guideline,
label, research), source ids and locator, the populations, drugs and topics it speaks to, a
plain-language variant for patients where one makes sense, and a review record. Statements that
restate a table (a dose, a threshold) are not written here: a ``Template`` names the table and
the sentence shape, and the numbers come from the table at run time.
"""


from datetime import date as Date
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from cmvcds.knowledge.schemas.base import Fact, Strict

__all__ = [
    "AnswerTexts",
    "ExampleQuestion",
    "QuestionVocabulary",
    "ReviewAction",
    "ReviewEvent",
    "ReviewRecord",
    "ReviewStatus",
    "Statement",
    "StatementKind",
    "StatementSet",
    "Template",
    "TemplateSet",
    "Term",
]

_ID = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"


class ReviewStatus(StrEnum):
    """Where a statement stands in review, weakest first (an answer shows its weakest)."""

    DRAFT = "draft"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"

    @property
    def rank(self) -> int:
        return list(ReviewStatus).index(self)

    @property
    def wording(self) -> str:
        return {
            "draft": "Draft: not yet reviewed by a clinician",
            "under_review": "Under review by the medical reviewers",
            "approved": "Approved by the medical reviewers",
        }[self.value]


class ReviewAction(StrEnum):
    """What a reviewer (or the author) does to a statement."""

    SUBMIT = "submit"  # draft → under_review
    APPROVE = "approve"  # under_review → approved
    RETURN = "return"  # under_review or approved → draft, with a comment


class ReviewEvent(Strict):
    """One step of a statement's review history."""

    action: ReviewAction
    by: str = Field(min_length=1)
    on: Date
    comment: str | None = None


class ReviewRecord(Strict):
    """The current review status of a statement and how it got there."""

    status: ReviewStatus = ReviewStatus.DRAFT
    reviewer: str | None = None
    #: The reviewer's role ("infectious-disease physician", "clinical pharmacist"), as the seed's
    #: review box names who approved.
    role: str | None = None
    date: Date | None = None
    #: The knowledge pack version the statement was approved in.
    knowledge_version: str | None = None
    history: tuple[ReviewEvent, ...] = ()

    @model_validator(mode="after")
    def _approved_has_reviewer(self) -> "ReviewRecord":
        if self.status is ReviewStatus.APPROVED and not (self.reviewer and self.date):
            raise ValueError("an approved statement names its reviewer and the date")
        return self


class StatementKind(StrEnum):
    """The section of the answer a statement belongs to."""

    GUIDELINE = "guideline"
    LABEL = "label"
    RESEARCH = "research"


class Statement(Fact):
    """One evidence statement: a paraphrase of one source, cited, classified and reviewed."""

    id: str = Field(pattern=_ID)
    kind: StatementKind
    text: str = Field(min_length=10, max_length=600)
    plain: str | None = Field(default=None, max_length=600)
    locator: str = Field(min_length=1)
    populations: tuple[str, ...] = ()
    drugs: tuple[str, ...] = ()
    topics: tuple[str, ...] = Field(min_length=1)
    review: ReviewRecord = ReviewRecord()
    #: The statement in Italian (clinical and plain), shown to a question asked in Italian.
    text_it: str | None = Field(default=None, min_length=10, max_length=700)
    plain_it: str | None = Field(default=None, max_length=700)
    #: ``source``: written from an Italian source (the AIFA text); ``translated``: translated from
    #: the English statement and pending a reviewer's check of the translation.
    italian: Literal["source", "translated"] | None = None

    @model_validator(mode="after")
    def _italian_origin(self) -> "Statement":
        if (self.text_it or self.plain_it) and self.italian is None:
            raise ValueError(f"{self.id}: an Italian text says whether it is source or translated")
        return self


class StatementSet(Strict):
    """``answers/statements.yaml``."""

    statements: tuple[Statement, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "StatementSet":
        seen: set[str] = set()
        for statement in self.statements:
            if statement.id in seen:
                raise ValueError(f"statement id {statement.id!r} is used twice")
            seen.add(statement.id)
        return self


class Template(Strict):
    """The sentence shape of statements generated from a table; reviewed like a statement.

    ``text`` and ``plain`` hold ``{placeholders}`` filled from the table's rows by the generator
    named ``id``; the numbers always come from the table, never from here.
    """

    id: str = Field(pattern=_ID)
    kind: StatementKind
    table: str
    text: str
    plain: str | None = None
    #: The same shapes in Italian, with the same placeholders (marked as translated unless
    #: ``italian`` says the wording comes from an Italian source).
    text_it: str | None = None
    plain_it: str | None = None
    italian: Literal["source", "translated"] | None = None
    topics: tuple[str, ...] = Field(min_length=1)
    populations: tuple[str, ...] = ()
    review: ReviewRecord = ReviewRecord()


class TemplateSet(Strict):
    """``answers/templates.yaml``: generated statements and the sentences of a personalised answer."""

    templates: tuple[Template, ...] = ()
    case: dict[str, str] = Field(default_factory=dict)
    case_review: ReviewRecord = ReviewRecord()


class Term(Strict):
    """A concept of the question vocabulary: its label and the words that name it (en, it)."""

    label: str
    synonyms: tuple[str, ...] = Field(min_length=1)
    ask_doctor: str | None = None
    #: The label and the "ask your doctor" line in Italian, for questions asked in Italian.
    label_it: str | None = None
    ask_doctor_it: str | None = None
    neighbours: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()


class QuestionVocabulary(Strict):
    """``answers/vocabulary.yaml``: populations, drugs, topics and the CMV anchor words."""

    populations: dict[str, Term]
    drugs: dict[str, Term]
    topics: dict[str, Term]
    anchors: tuple[str, ...] = Field(min_length=1)
    special_populations: tuple[str, ...] = ()
    stopwords: tuple[str, ...] = ()
    general_words: tuple[str, ...] = ()
    #: Other infections: a question about one of them (and no CMV drug) is not about CMV, even
    #: when its words appear in a statement ("varicella-zoster" in the letermovir statements).
    other_infections: tuple[str, ...] = ()
    #: Subjects the knowledge holds nothing about (breastfeeding, making a medicine): a question
    #: naming one is not covered, rather than answered by the statements about its other words.
    uncovered_subjects: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _neighbours_known(self) -> "QuestionVocabulary":
        unknown_special = [p for p in self.special_populations if p not in self.populations]
        if unknown_special:
            raise ValueError(f"special_populations: unknown {unknown_special}")
        for name, term in self.topics.items():
            unknown = [n for n in term.neighbours if n not in self.topics]
            if unknown:
                raise ValueError(f"topic {name!r}: unknown neighbours {unknown}")
        return self


class ExampleQuestion(Strict):
    """A question the knowledge answers; offered as a follow-up or as the nearest question."""

    question: str
    question_it: str | None = None
    topics: tuple[str, ...] = Field(min_length=1)
    populations: tuple[str, ...] = ()
    drugs: tuple[str, ...] = ()

    def in_language(self, language: str) -> str:
        """The question in ``language`` (``it`` when translated), else in English."""
        return self.question_it if language == "it" and self.question_it else self.question


class ItalianTexts(Strict):
    """The fixed wording of an answer in Italian (``answers/texts.yaml`` ``italian:``)."""

    section_titles: dict[str, str]
    disclaimer: dict[str, str]
    not_covered: str
    summary_lead: dict[str, str]
    review_notice: str
    unverified_notice: str
    unmatched_notice: str
    #: The answer to a request to obtain or use a medicine outside medical care.
    refused: str = ""
    #: The answer to a question that reads as self-harm or overdose intent.
    crisis: str = ""
    english_only_notice: str
    translated_notice: str
    #: The review states in Italian (draft, under_review, approved).
    review_status: dict[str, str]


class AnswerTexts(Strict):
    """``answers/texts.yaml``: the fixed wording around the statements (titles, disclaimers)."""

    section_titles: dict[str, str]
    disclaimer: dict[str, str]
    not_covered: str
    summary_lead: dict[str, str]
    review_notice: str
    unverified_notice: str
    unmatched_notice: str
    #: The answer to a request to obtain or use a medicine outside medical care (no statement is
    #: cited: the request is not answered).
    refused: str = ""
    #: The answer to a question that reads as self-harm or overdose intent, whoever asks: an
    #: emergency number and a crisis line, no content (fix15b, probe15 S3).
    crisis: str = ""
    examples: tuple[ExampleQuestion, ...] = Field(min_length=1)
    #: The same fixed wording in Italian, for questions asked in Italian.
    italian: ItalianTexts | None = None
