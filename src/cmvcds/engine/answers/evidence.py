"""One unit of an answer: a knowledge statement, or a sentence generated from a table or case."""

from __future__ import annotations

from dataclasses import dataclass, field

from cmvcds.knowledge.schemas.answers import ReviewRecord, ReviewStatus, Statement

__all__ = ["Evidence", "from_statement"]


@dataclass(frozen=True)
class Evidence:
    """A citable sentence with what it is about and how far it has been reviewed.

    ``origin`` is ``statement`` (written in ``answers/statements.yaml``), ``table`` (generated
    from a knowledge table by a reviewed template) or ``case`` (computed from the patient's
    assessment for this question).
    """

    id: str
    kind: str
    text: str
    citations: tuple[str, ...]
    locator: str
    topics: tuple[str, ...]
    populations: tuple[str, ...] = ()
    drugs: tuple[str, ...] = ()
    plain: str | None = None
    review: ReviewRecord = field(default_factory=ReviewRecord)
    verified: bool = True
    note: str | None = None
    origin: str = "statement"
    needs_drug: bool = False
    text_it: str | None = None
    plain_it: str | None = None
    italian: str | None = None
    #: For a drug interaction: the co-medications it names (``with_any``: cyclosporine,
    #: ciclosporin), and whether it changes the dose (PREVYMIS: 240 mg with cyclosporine).
    co_drugs: tuple[str, ...] = ()
    changes_dose: bool = False
    #: A label regimen that states a usual dose (False: every band is "specialist review" or "not
    #: indicated"), so that a dose question is answered by a dose before a referral (review11 M2).
    states_dose: bool = True
    #: A case's critical alert, or the patient's line to contact their doctor now: shown first in
    #: any answer about the case (review11 S4, M3).
    urgent: bool = False

    @property
    def status(self) -> ReviewStatus:
        return self.review.status

    def search_text(self) -> str:
        """What BM25 and the semantic model index: the clinical sentence."""
        return self.text


def from_statement(statement: Statement) -> Evidence:
    return Evidence(
        id=statement.id,
        kind=statement.kind.value,
        text=statement.text,
        citations=statement.citations,
        locator=statement.locator,
        topics=statement.topics,
        populations=statement.populations,
        drugs=statement.drugs,
        plain=statement.plain,
        review=statement.review,
        verified=statement.verified,
        note=statement.note,
        text_it=statement.text_it,
        plain_it=statement.plain_it,
        italian=statement.italian,
    )
