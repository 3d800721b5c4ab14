"""The Jinja2 environment of the pages and the printable report (one set of templates)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape

from cmvcds.adapters.web import i18n
from cmvcds.adapters.web.texts import clinical
from cmvcds.domain.vocabulary import Outcome

__all__ = ["STATIC_DIR", "TEMPLATE_DIR", "environment", "install_i18n", "render"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def _wording(outcome: str) -> str:
    try:
        return Outcome(outcome).wording
    except ValueError:
        return outcome


def _label(code: str) -> str:
    return str(code).replace("_", " ").replace("-", " ")


def _change(text: str) -> str:
    """A version's recorded change in the page's language: the two the app writes ("created
    (origin)", "edited") translated, a note typed by the user as typed."""
    if text.startswith("created (") and text.endswith(")"):
        return i18n.gettext("created (%(origin)s)") % {"origin": text[len("created (") : -1]}
    return i18n.gettext(i18n.N_("edited")) if text == "edited" else text


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(("html", "svg")),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    install_i18n(env)
    env.filters["wording"] = _wording
    env.filters["label"] = _label
    env.filters["todate"] = date.fromisoformat
    env.filters["change"] = _change
    return env


#: What every page of this installation shows whichever part draws it (the clinician's pages,
#: the registry, Ask): the menu entries of the mounted parts and the demo banner. Set by
#: create_app; one mapping, read live by every environment ``install_i18n`` prepares.
SITE: dict[str, Any] = {"extra_nav": [], "demo_mode": False}


def install_i18n(env: Environment) -> None:
    """``_()``/``gettext``/``ngettext`` in the templates, in the language of the request being
    served (:mod:`cmvcds.adapters.web.i18n`), and what the language switch needs."""
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.globals["current_language"] = i18n.current_language
    env.globals["current_path"] = i18n.current_path
    env.globals["languages"] = i18n.LANGUAGES
    env.globals["site"] = SITE
    env.filters["clinical"] = _clinical


@pass_context
def _clinical(context: Any, text: object) -> str:
    """:func:`clinical` as a filter that reads the request's language: marked ``pass_context``
    so that Jinja never folds ``{{ "literal" | clinical }}`` at compile time, in no request's
    language (review23c 4: the flag labels stayed English on Italian pages)."""
    return clinical(text)


def render(template: str, /, **context: Any) -> str:
    return environment().get_template(template).render(**context)
