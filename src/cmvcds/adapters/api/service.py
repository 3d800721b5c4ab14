"""The one place the HTTP adapters reach the engine: raw input in, published JSON out.

The REST API, the web pages and the CDS Hooks services all call these functions, so that a case
gets the same answer (and the same error messages) whichever door it came through — the CLI's
own functions, never a copy of the clinical logic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cmvcds.adapters.api.settings import Settings
from cmvcds.assess import assess
from cmvcds.domain.case import Case, parse_case
from cmvcds.domain.documents import DEFAULT_LIMITS, parse_document
from cmvcds.domain.settings import SiteSettings, parse_settings
from cmvcds.engine import dosing
from cmvcds.engine.same_time import dose_with_contradictions
from cmvcds.errors import CaseFormatError, SettingsError
from cmvcds.knowledge import Knowledge, load_knowledge

__all__ = ["Clinic", "NotAvailable", "read_case_text"]


class NotAvailable(Exception):
    """Something outside Python that a page needs is missing (e.g. chromium for PDF)."""


def read_case_text(data: bytes | str, filename: str = "case.yaml") -> Any:
    """The raw mapping of an uploaded YAML or JSON document (a case or a FHIR Bundle), read by
    the one bounded reader of untrusted documents (``cmvcds.domain.documents``)."""
    return parse_document(data, filename, "auto")


def read_settings_file(path: Path) -> Any:
    """The raw site settings of ``path`` (YAML), bounded like a case."""
    try:
        with path.open("rb") as handle:
            data = handle.read(DEFAULT_LIMITS.max_bytes + 1)
    except OSError as error:
        raise SettingsError(f"cannot read settings file {path}: {error.strerror}") from None
    return parse_document(data, str(path), "yaml")


@dataclass
class Clinic:
    """The knowledge, site settings and clock an installation answers with."""

    knowledge: Knowledge
    site: SiteSettings = field(default_factory=SiteSettings)
    today: Callable[[], date] = date.today

    @classmethod
    def from_settings(cls, settings: Settings) -> Clinic:
        knowledge = load_knowledge(settings.knowledge)
        site = SiteSettings()
        if settings.site_settings is not None:
            raw = read_settings_file(settings.site_settings)
            site = parse_settings(raw, knowledge, origin=str(settings.site_settings))
        return cls(knowledge, site)

    def parse(self, raw: Any) -> Case:
        return parse_case(raw, self.knowledge, today=self.today())

    def assess(self, raw: Any) -> dict[str, Any]:
        """The ``cmvcds-assessment/1`` document of a raw case mapping."""
        return assess(self.parse(raw), self.knowledge, settings=self.site).to_dict()

    def assess_case(self, case: Case) -> dict[str, Any]:
        return assess(case, self.knowledge, settings=self.site).to_dict()

    def dose(self, request: dict[str, Any]) -> dict[str, Any]:
        """The ``cmvcds-dose/1`` document; ``request`` as ``DoseRequest`` (api/models.py)."""
        case = (
            self.parse(request["case"])
            if request.get("case")
            else self.patient_case(request.get("patient") or {})
        )
        patient = dosing.dose_patient_from_case(case, case.assessed_on)
        result = dosing.recommend_dose(
            patient,
            request["drug"],
            request["indication"],
            self.knowledge,
            regimen=request.get("regimen"),
            route=request.get("route"),
            region=request.get("region") or "us",
        )
        result = dose_with_contradictions(result, case, case.assessed_on)
        document: dict[str, Any] = result.to_dict()
        document["knowledge"] = self.knowledge.stamp()
        return document

    def patient_case(self, patient: dict[str, Any]) -> Case:
        """A minimal case from the calculator's patient fields (as ``cmvcds dose`` flags)."""
        fields = {
            "age_years",
            "sex",
            "weight_kg",
            "height_cm",
            "dialysis",
            "birth_date",
            "intolerances",
        }
        today = self.today().isoformat()
        raw: dict[str, Any] = {
            "id": "dose-calculator",
            "assessed_on": today,
            "context": "immunocompromised",
            "patient": {k: v for k, v in patient.items() if k in fields and v not in (None, "")},
            "observations": [],
        }
        if patient.get("creatinine") not in (None, ""):
            raw["observations"].append(
                {
                    "date": today,
                    "code": "creatinine",
                    "value": patient["creatinine"],
                    "unit": patient.get("creatinine_unit") or "mg/dL",
                }
            )
        try:
            return self.parse(raw)
        except CaseFormatError as error:
            names = {"observations[0]": "patient.creatinine",
                     "observations[0].unit": "patient.creatinine_unit"}  # fmt: skip
            raise error.named_as_sent(names, made_by_us=["observations[0].date"]) from None

    def resistance(self, request: dict[str, Any]) -> dict[str, Any]:
        """The ``cmvcds-resistance/1`` document of a mutation list, FASTA or VCF text."""
        from cmvcds.engine import resistance as engine  # Biopython loads with it, on demand

        genes = request.get("genes_tested") or None
        virus = request.get("virus") or "cmv"
        if request.get("mutations"):
            report = engine.interpret_mutations(
                request["mutations"],
                genes,
                self.knowledge,
                threshold=request.get("threshold"),
                virus=virus,
            )
        elif request.get("fasta"):
            report = engine.interpret_fasta(
                request["fasta"], self.knowledge, genes_tested=genes, virus=virus
            )
        else:
            report = engine.interpret_vcf(
                request.get("vcf", ""),
                self.knowledge,
                threshold=request.get("threshold"),
                genes_tested=genes,
                sample=request.get("sample") or None,
                virus=virus,
                min_depth=request.get("min_depth"),
            )
        document: dict[str, Any] = report.to_dict()
        return document


def examples_folder(settings: Settings) -> Path | None:
    """Where the demo cases are: the setting, else ``./examples``, else the repository's."""
    candidates = [
        settings.examples_dir,
        Path.cwd() / "examples",
        Path(__file__).resolve().parents[4] / "examples",
    ]
    for candidate in candidates:
        if candidate is not None and candidate.is_dir():
            return candidate
    return None

