"""Routes of the Ask page (``GET/POST /ask``) and of ``POST /api/v1/ask`` (design.md §6)."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field

from cmvcds.adapters.answer_index import build_engine
from cmvcds.adapters.api.problems import problem_responses, problems_of
from cmvcds.adapters.api.service import Clinic, read_case_text
from cmvcds.adapters.web.ask.locators import with_locators_marked
from cmvcds.engine.answers import AnswerEngine
from cmvcds.engine.answers.service import MAX_QUESTION_CHARS
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge

__all__ = ["AskRequest", "engine_for", "router"]

router = APIRouter()
TEMPLATES = Path(__file__).parent / "templates"
_LOCK = threading.Lock()
_ENGINES: dict[str, AnswerEngine] = {}


def engine_for(knowledge: Knowledge) -> AnswerEngine:
    """The answer engine of ``knowledge`` (built once per knowledge digest, then shared)."""
    with _LOCK:
        engine = _ENGINES.get(knowledge.sha256)
        if engine is None:
            engine = _ENGINES[knowledge.sha256] = build_engine(knowledge)
        return engine


class AskRequest(BaseModel):
    """The body of ``POST /api/v1/ask``."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    audience: Literal["clinician", "patient"] | None = Field(
        default=None,
        description="Who reads the answer; when not given, inferred from the question's wording "
        "(first-person patient or parent wording: patient; otherwise clinician).",
    )
    case: dict[str, Any] | None = Field(
        default=None, description="A cmvcds-case/1 document to personalise the answer."
    )


def _clinic(request: Request) -> Clinic:
    clinic: Clinic = request.app.state.clinic
    return clinic


def _answer(
    request: Request, question: str, audience: str | None, case: Any | None
) -> dict[str, Any]:
    """The answer, with the review status the registry holds when the app has a database."""
    from cmvcds.adapters.review_overlay import app_reviews

    clinic = _clinic(request)
    assessment = clinic.assess(case) if case is not None else None
    reviews = app_reviews(request.app.state)
    reader = None if audience in (None, "auto") else audience  # not chosen: as the wording tells
    return engine_for(clinic.knowledge).ask(question, reader, assessment, reviews)


@router.post(
    "/api/v1/ask",
    tags=["ask"],
    summary="Answer a clinical question from cited, reviewed knowledge (cmvcds-answer/1)",
    responses=problem_responses(422),
)
def ask_api(body: AskRequest, request: Request) -> dict[str, Any]:
    return _answer(request, body.question, body.audience, body.case)


@cache
def _environment() -> Environment:
    from cmvcds.adapters.web.render import TEMPLATE_DIR, install_i18n

    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES), FileSystemLoader(TEMPLATE_DIR)]),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    install_i18n(env)  # base.html's switch and gettext
    env.filters["locators_marked"] = with_locators_marked
    return env


def _case_said_in_italian(answer: dict[str, Any]) -> dict[str, Any]:
    """An Italian answer's statements about the patient's own case (its decisions, regimens,
    alerts, missing data), which the engine words in English, in the pack's Italian where it has
    every part (``texts.translate``), else left in English and marked so; the summary repeating
    one of them too (debt22: "antiviral-prophylaxis: not indicated. …" on an Italian page)."""
    from cmvcds.adapters.web.texts import translate

    if answer.get("language") != "it" or not answer.get("covered"):
        return answer
    summary = str(answer.get("summary") or "")
    for section in answer.get("sections") or []:
        for statement in section.get("statements") or []:
            if statement.get("origin") != "case" or statement.get("language") != "en":
                continue
            italian = translate(str(statement["text"]), "it")
            if italian is None:
                continue
            if summary.endswith(statement["text"]):
                summary = summary[: len(summary) - len(statement["text"])] + italian
            statement.update(text=italian, language="it", translation="machine-draft")
    answer["summary"] = summary
    return answer


def _page(request: Request, question: str, audience: str, case_text: str) -> HTMLResponse:
    answer = None
    problems: list[dict[str, str]] = []
    status = 200
    if question.strip():
        try:
            case = read_case_text(case_text) if case_text.strip() else None
            answer = _case_said_in_italian(_answer(request, question, audience, case))
        except InputError as error:
            problems = problems_of(error)
            status = 422
    html = (
        _environment()
        .get_template("ask.html")
        .render(
            title="Ask",
            question=question,
            audience=audience,
            case_text=case_text,
            answer=answer,
            locators=_locators(answer),
            problems=problems,
            max_chars=MAX_QUESTION_CHARS,
        )
    )
    return HTMLResponse(html, status_code=status)


def _locators(answer: dict[str, Any] | None) -> list[str]:
    """Where in their sources the answer's statements were read (each statement's locator)."""
    sections = (answer or {}).get("sections") or []
    return [s["locator"] for section in sections for s in section["statements"] if s.get("locator")]


@router.get("/ask", include_in_schema=False, response_class=HTMLResponse)
def ask_page(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUESTION_CHARS)] = "",
    audience: Literal["clinician", "patient", "auto"] = "auto",
) -> HTMLResponse:
    return _page(request, q, audience, "")


@router.post("/ask", include_in_schema=False, response_class=HTMLResponse)
def ask_form(
    request: Request,
    question: Annotated[str, Form(max_length=MAX_QUESTION_CHARS)] = "",
    audience: Annotated[Literal["clinician", "patient", "auto"], Form()] = "auto",
    case: Annotated[str, Form(max_length=200_000)] = "",
) -> HTMLResponse:
    return _page(request, question, audience, case)
