"""Ask cmvcds: guideline-backed answers to clinical questions, from cited and reviewed knowledge.

``AnswerEngine(knowledge, embedder)`` indexes the evidence statements of the pack (and those it
generates from the dosing, pregnancy and congenital tables); ``engine.ask(question, audience,
assessment)`` returns the ``cmvcds-answer/1`` document of design.md §6. Every sentence of an
answer is a cited knowledge statement or is computed from knowledge data — never free text.
"""

from cmvcds.engine.answers.compose import ANSWER_FORMAT
from cmvcds.engine.answers.embedding import Embedder, default_embedder
from cmvcds.engine.answers.review import apply_review
from cmvcds.engine.answers.service import AnswerEngine

__all__ = ["ANSWER_FORMAT", "AnswerEngine", "Embedder", "apply_review", "default_embedder"]
