"""The pages in Italian and English (issue 15 item 2): the language chosen by the ``lang`` cookie
the IT | EN switch sets, else ``Accept-Language``, else English; ``<html lang>`` follows it; the
Italian catalogue compiles and covers every msgid of every file ``locale/babel.cfg`` extracts from
(and every module that marks a msgid is listed there); every user-visible text of every template
is wrapped for translation.

Clinical texts of the knowledge pack (decision reasons, alerts) are translated by the pack
(tests/web/test_pack_translations.py); tests/web/test_i18n_pages.py reads every page in Italian."""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from jinja2 import Environment, nodes

from cmvcds.adapters.fhir.mapping import bundle_to_case
from cmvcds.adapters.web import i18n
from cmvcds.adapters.web.render import TEMPLATE_DIR
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY
from tests.fhir.ehr.generate import creat, patient

ROOT = Path(__file__).resolve().parents[2]
REPORT_TEMPLATES = ROOT / "src" / "cmvcds" / "adapters" / "report" / "templates"
REGISTRY_TEMPLATES = TEMPLATE_DIR.parent / "registry" / "templates"
ASK_TEMPLATES = TEMPLATE_DIR.parent / "ask" / "templates"
ALL_TEMPLATES = {
    *TEMPLATE_DIR.glob("*.html"),
    *REPORT_TEMPLATES.glob("*.html"),
    *REGISTRY_TEMPLATES.glob("*.html"),
    *ASK_TEMPLATES.glob("*.html"),
}
EXAMPLE = ROOT / "examples" / "pregnancy.yaml"

ADAPTERS = TEMPLATE_DIR.parents[1]
BABEL_CFG = TEMPLATE_DIR.parent / "locale" / "babel.cfg"
#: Words that need no translation: names, formats, units, gene and mutation codes.
UNTRANSLATED = re.compile(
    r"^(cmvcds|cmvcds-case/1|format:|id:|URL|DOI|FHIR|PDF|JSON|HTML|sha256|UTC|mg|h|mL/min|IT|EN|"
    r"UL\d+(:[A-Z]\d+[A-Z]*)?|NC_006273\.2)$"
)
VISIBLE_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
MASK = "\x00"  # where a {{ }} stood


class _Visible(HTMLParser):
    """Text nodes and visible attribute values of an HTML page whose Jinja parts are masked."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        self.texts += [v or "" for k, v in attrs if k in VISIBLE_ATTRIBUTES]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.texts.append(data)


def _visible_texts(template: Path) -> list[str]:
    """The literal texts of ``template`` a person would read, outside ``{{ }}`` and ``{% %}``:
    text nodes, visible attribute values, and the label argument of the form macros when given
    as a bare string."""
    source = template.read_text(encoding="utf-8")
    masked = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    masked = re.sub(r"\{\{.*?\}\}", MASK, masked, flags=re.S)
    masked = re.sub(r"\{%.*?%\}", "", masked, flags=re.S)
    parser = _Visible()
    parser.feed(masked)
    parser.close()
    found = [t.replace(MASK, " ").strip() for t in parser.texts]
    tree = Environment(extensions=["jinja2.ext.i18n"]).parse(source)
    for call in tree.find_all(nodes.Call):
        name = getattr(call.node, "name", None)
        if name in ("field", "select", "input"):
            label_at = 1 if name == "field" else 2
            if len(call.args) > label_at and isinstance(call.args[label_at], nodes.Const):
                found.append(str(call.args[label_at].value))
    return [" ".join(t.split()) for t in found if _has_words(t)]


def _has_words(text: str) -> bool:
    """Whether ``text`` holds a word to translate (not a name, unit or code)."""
    words = re.findall(r"[A-Za-z][\w/.:+-]*", text)
    return any(re.search(r"[A-Za-z]{2}", w) and not UNTRANSLATED.match(w) for w in words)


def _catalog_ids() -> set[str]:
    with i18n.PO_FILE.open("rb") as handle:
        catalog = read_po(handle)
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def _extracted_files() -> dict[str, list[Path]]:
    """The files ``locale/babel.cfg`` extracts msgids from, by method (python, jinja2)."""
    found: dict[str, list[Path]] = {"python": [], "jinja2": []}
    for method, pattern in re.findall(
        r"^\[(python|jinja2): ([^\]]+)\]", BABEL_CFG.read_text(), re.M
    ):
        found[method] += sorted(ADAPTERS.glob(pattern.replace("**.html", "**/*.html")))
    return found


def test_every_template_and_marking_module_is_extracted() -> None:
    files = _extracted_files()
    assert set(files["jinja2"]) == ALL_TEMPLATES
    marking = {
        path
        for path in ADAPTERS.rglob("*.py")
        if re.search(r"\b(N_|gettext|ngettext)\(|\b_\(\"", path.read_text(encoding="utf-8"))
    }
    assert marking - set(files["python"]) == set(), "add these modules to locale/babel.cfg"
    # pybabel does not see a msgid written inside an f-string: it would never be translated
    hidden = [f"{path.name}: {m}" for path in files["python"]
              for m in re.findall(r"\bf[\"'][^\n]*\{[^}\n]*\b(?:_|gettext|N_)\([\"'][^\n]*", path.read_text())]  # fmt: skip
    assert hidden == []


@pytest.mark.parametrize("template", sorted(ALL_TEMPLATES), ids=lambda p: p.name)
def test_every_visible_text_of_a_covered_template_is_wrapped(template: Path) -> None:
    assert _visible_texts(template) == []


def test_the_check_sees_an_unwrapped_text() -> None:
    """The walk above finds what it must: a bare label, heading, placeholder and macro label."""
    scratch = TEMPLATE_DIR.parent / "_i18n_probe.html"
    try:
        scratch.write_text(
            '<h2>Plain heading</h2><input placeholder="type here">{{ _("Wrapped") }}'
            '{{ field("x", "Bare label") }}{{ field("y", _("Good label")) }}',
            encoding="utf-8",
        )
        assert sorted(_visible_texts(scratch)) == ["Bare label", "Plain heading", "type here"]
    finally:
        scratch.unlink()


def test_every_msgid_of_the_templates_and_pages_has_an_italian_msgstr() -> None:
    with i18n.PO_FILE.open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [
        m.id for m in catalog if m.id and (not m.string or not all(m.string) or m.fuzzy)
    ]
    assert untranslated == []
    wanted: set[str] = set()
    files = _extracted_files()
    for template in files["jinja2"]:
        for _, message, _, _ in extract_from_file(
            "jinja2", str(template), options={"extensions": "jinja2.ext.i18n"}
        ):
            wanted.add(message if isinstance(message, str) else message[0])
    for module in files["python"]:
        for _, message, _, _ in extract_from_file(
            "python",
            str(module),
            keywords={"_": None, "gettext": None, "N_": None},
        ):
            wanted.add(message if isinstance(message, str) else message[0])
    assert sorted(wanted - _catalog_ids()) == [], "run pybabel extract/update (locale/babel.cfg)"


def test_italian_keeps_every_placeholder_of_its_msgid() -> None:
    with i18n.PO_FILE.open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = set(re.findall(r"%\(\w+\)[sd]|%%", ids[-1]))
        for string in strings:
            assert set(re.findall(r"%\(\w+\)[sd]|%%", string)) == wanted, message.id


@pytest.mark.parametrize(
    ("cookie", "header", "language"),
    [
        (None, None, "en"),
        (None, "it-IT,it;q=0.9,en;q=0.8", "it"),
        (None, "en-GB,en;q=0.9,it;q=0.8", "en"),
        (None, "fr-FR,it;q=0.5,en;q=0.3", "it"),
        (None, "de-DE,fr;q=0.9", "en"),
        (None, "it;q=0", "en"),
        ("it", "en-US", "it"),
        ("en", "it-IT", "en"),
        ("xx", "it-IT", "it"),
    ],
)
def test_the_language_is_the_cookie_else_accept_language_else_english(
    cookie: str | None, header: str | None, language: str
) -> None:
    assert i18n.negotiate(cookie, header) == language


def test_home_page_in_english_by_default_and_in_italian_from_the_browser(
    client: TestClient,
) -> None:
    english = client.get("/").text
    assert '<html lang="en">' in english
    assert ">New pregnancy case</a>" in english
    italian = client.get("/", headers={"Accept-Language": "it-IT,it;q=0.9"}).text
    assert '<html lang="it">' in italian
    assert ">Nuovo caso in gravidanza</a>" in italian
    assert "Solo supporto alla decisione: non sostituisce il giudizio clinico." in italian


def test_the_switch_sets_the_cookie_and_comes_back_to_the_page(client: TestClient) -> None:
    page = client.get("/cases/new?context=pregnancy").text
    assert 'href="/lang/it?back=/cases/new%3Fcontext%3Dpregnancy"' in page
    response = client.get(
        "/lang/it", params={"back": "/cases/new?context=pregnancy"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/cases/new?context=pregnancy"
    assert "lang=it" in response.headers["set-cookie"]
    form = client.get("/cases/new?context=pregnancy", headers={"Accept-Language": "en"}).text
    assert '<html lang="it">' in form
    assert "<h1>Nuovo caso: gravidanza</h1>" in form
    assert ">Ultima mestruazione</label>" in form
    assert ">Amniocentesi programmata il</label>" in form
    client.get("/lang/en", follow_redirects=False)
    assert '<html lang="en">' in client.get("/cases/new?context=pregnancy").text


@pytest.mark.parametrize("back", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_the_switch_goes_back_only_to_a_page_of_this_site(client: TestClient, back: str) -> None:
    response = client.get("/lang/it", params={"back": back}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_an_unknown_language_is_refused(client: TestClient) -> None:
    assert client.get("/lang/fr", follow_redirects=False).status_code == 404


def test_assessment_and_dossier_headings_in_italian(client: TestClient) -> None:
    client.cookies.set("lang", "it")
    stored = client.post(
        "/cases/upload",
        files={"file": ("pregnancy.yaml", EXAMPLE.read_bytes())},
        follow_redirects=False,
    )
    assert stored.status_code == 303, stored.text
    page = client.get(stored.headers["location"]).text
    assert '<html lang="it">' in page
    assert "Valutazione del caso demo-pregnancy-01" in page
    for heading in ("Cosa fare ora", "Decisioni", "Versioni"):
        assert f">{heading}</h2>" in page
    assert ">Dossier Legge 648/96</a>" in page
    key = stored.headers["location"].rstrip("/").split("/")[-1]
    dossier = client.get(f"/cases/{key}/dossier").text
    assert '<html lang="it">' in dossier
    assert "<h1>Valaciclovir in gravidanza — dossier Legge 648/96</h1>" in dossier
    assert "<h2>Eleggibilità</h2>" in dossier


def test_dose_and_resistance_pages_in_italian(client: TestClient) -> None:
    client.cookies.set("lang", "it")
    dose = client.get("/dose").text
    assert "<h1>Calcolo della dose</h1>" in dose
    assert ">Creatinina sierica</label>" in dose
    resistance = client.get("/resistance").text
    assert "<h1>Referto delle resistenze</h1>" in resistance
    assert "Soglia di refertazione delle varianti NGS, % (predefinita 10)" in resistance


def test_every_value_the_pages_translate_has_its_italian() -> None:
    """The pages pass these values to ``_()`` as they come (a source's kind, a statement's kind,
    review status and action, a user's role): each must be a msgid with its Italian."""
    from cmvcds.knowledge.schemas.answers import ReviewAction, ReviewStatus, StatementKind
    from cmvcds.knowledge.schemas.base import SourceKind
    from cmvcds.registry.models import Role

    values = [*SourceKind, *StatementKind, *ReviewStatus, *ReviewAction, *Role]
    words = {str(v.value).replace("_", " ") for v in values}
    assert sorted(words - _catalog_ids()) == []  # and each msgid has its msgstr: test above


def _reason_templates() -> set[str]:
    """The templates of every ``Reason`` the FHIR mapping writes (below the web layer: not
    extracted by pybabel, their msgids are added by hand)."""
    found = set()
    for module in (ADAPTERS / "fhir").glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Reason":
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{module.name}: a Reason needs a template"
                found.add(first.value)
    return found


def test_every_reason_of_the_fhir_mapping_has_its_italian() -> None:
    templates = _reason_templates()
    assert len(templates) >= 17
    assert sorted(templates - _catalog_ids()) == []


def test_another_patients_resource_is_said_in_italian(knowledge: Knowledge) -> None:
    """Review: the reasons of ``adapters/fhir/subjects.py`` stayed English in the Italian notice."""
    record = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": patient("p1", "female", "1992-04-11")},
        {"resource": creat("x-cr", "p2", "2026-11-20", 1.5)},
    ]}  # fmt: skip
    mapped = bundle_to_case(record, knowledge, context="pregnancy", assessed_on=TODAY)
    english = "Observation/x-cr not used: its subject 'Patient/p2' is another patient, not Patient/p1"
    assert mapped.foreign == [english]
    token = i18n.set_language("it")
    try:
        assert [i18n.said(line) for line in mapped.foreign] == [
            "Observation/x-cr non usato: il suo subject 'Patient/p2' è un altro paziente, "
            "non Patient/p1"
        ]
    finally:
        i18n.reset_language(token)
    assert i18n.said(english) == english  # a plain text is left as it is
