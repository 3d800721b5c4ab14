"""The language of the pages (issue 15 item 2): Italian or English, from the ``lang`` cookie set
by the IT | EN switch, else the browser's ``Accept-Language``, else English.

The Italian catalogue is ``locale/it/LC_MESSAGES/messages.po``; it is compiled in memory when first
used (``babel.messages``), so no build step stands between an edited ``.po`` and the pages. The
language of the request being served lives in a context variable, set by :class:`LocaleMiddleware`
and read by the templates' ``gettext``: no page handler has to pass it along.
Clinical texts of the knowledge pack (reasons, alerts) are not translated here: they stay English
until the pack carries both languages."""

from __future__ import annotations

from contextvars import ContextVar, Token
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.types import ASGIApp, Receive, Scope, Send

from cmvcds.adapters.fhir.reason import Reason

__all__ = [
    "COOKIE",
    "DEFAULT",
    "LANGUAGES",
    "N_",
    "PO_FILE",
    "RUNTIME_MESSAGES",
    "LocaleMiddleware",
    "current_language",
    "current_path",
    "gettext",
    "negotiate",
    "ngettext",
    "preferred",
    "reset_language",
    "set_language",
    "translations",
]

LOCALE_DIR = Path(__file__).parent / "locale"
PO_FILE = LOCALE_DIR / "it" / "LC_MESSAGES" / "messages.po"
#: The languages of the pages, in the order of the switch.
LANGUAGES = {"it": "Italiano", "en": "English"}
DEFAULT = "en"
COOKIE = "lang"

_language: ContextVar[str] = ContextVar("cmvcds_language", default=DEFAULT)
_path: ContextVar[str] = ContextVar("cmvcds_path", default="/")


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (English: the msgids themselves)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT or not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the cookie if it names one we have, else the best of Accept-Language
    (by q, then order), else English."""
    if cookie in LANGUAGES:
        return str(cookie)
    return preferred(accept_language) or DEFAULT


def preferred(accept_language: str | None) -> str | None:
    """The best language of an ``Accept-Language`` header (RFC 9110 §12.5.4: by q, then order;
    a region is ignored, ``it-IT`` is ``it``) among ours; None when it names none of them."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None


def current_language() -> str:
    """The language of the request being served."""
    return _language.get()


def set_language(language: str) -> Token[str]:
    """Render in ``language`` from now on (until :func:`reset_language` with the token)."""
    return _language.set(language if language in LANGUAGES else DEFAULT)


def reset_language(token: Token[str]) -> None:
    _language.reset(token)


def current_path() -> str:
    """The path and query of the request being served (where the switch comes back to)."""
    return _path.get()


def gettext(message: str) -> str:
    return translations(current_language()).ugettext(message)


def said(text: str) -> str:
    """``text`` in the page's language when it is a ``Reason`` of the FHIR mapping (its template
    is a msgid, its values translated in turn); any other text as it is."""
    if not isinstance(text, Reason) or _language.get() == DEFAULT:
        return text  # a Reason is its own English
    values = {k: said(v) if isinstance(v, str) else v for k, v in text.values.items()}
    return gettext(text.template) % values if values else gettext(text.template)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ungettext(singular, plural, n)


class LocaleMiddleware:
    """ASGI middleware: picks the language of each HTTP request (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cookie = None
        for item in headers.get("cookie", "").split(";"):
            name, _, value = item.strip().partition("=")
            if name == COOKIE:
                cookie = value.strip()
        language = _language.set(negotiate(cookie, headers.get("accept-language")))
        query = scope.get("query_string", b"").decode("latin-1")
        path = _path.set(scope["path"] + (f"?{query}" if query else ""))
        try:
            await self.app(scope, receive, send)
        finally:
            _language.reset(language)
            _path.reset(path)


def N_(message: str) -> str:
    """Marks a msgid chosen at run time (extracted with ``-k N_``), translated where shown."""
    return message


#: Words the templates translate from a variable: the case contexts (as stored and as named on
#: the pages) and the optional parts' navigation labels (``OPTIONAL_ROUTERS`` of the API app).
RUNTIME_MESSAGES = (
    N_("pregnancy"),
    N_("congenital"),
    N_("infant"),
    N_("transplant"),
    N_("hiv"),
    N_("HIV"),
    N_("Registry"),
    N_("Ask"),
)
