"""Deployment settings of the web app, API and CDS Hooks services, read from the environment.

Every setting has an environment variable ``CMVCDS_<NAME>`` (``CMVCDS_DATABASE_URL``,
``CMVCDS_DEMO_CASES`` …). ``CMVCDS_SETTINGS`` names the *site settings* file of the clinical
engine (design.md §4), the same file the CLI reads; ``CMVCDS_KNOWLEDGE`` an alternative pack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cmvcds.registry.db import DEFAULT_URL
from cmvcds.registry.roles import Role

__all__ = ["Settings"]


class Settings(BaseSettings):
    """What an installation chooses; defaults give a working single-user demo on SQLite."""

    model_config = SettingsConfigDict(env_prefix="CMVCDS_", extra="ignore")

    database_url: str = Field(default=DEFAULT_URL, description="SQLAlchemy URL of the database.")
    mode: Literal["demo", "production"] = Field(
        default="demo",
        description=(
            "production: the clinician's pages and stored cases need a registry login of a "
            "clinical role (`cmvcds serve` without --demo); demo: open, with a banner on "
            "every page."
        ),
    )
    clinical_roles: list[Role] = Field(
        default_factory=lambda: [Role.SITE_INVESTIGATOR, Role.SITE_DATA_ENTRY],
        description="Registry roles that may use the clinician's pages in production mode.",
    )
    knowledge: Path | None = Field(
        default=None, description="Knowledge pack folder (default: the shipped pack)."
    )
    site_settings: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("CMVCDS_SETTINGS", "site_settings"),
        description="Site settings file of the clinical engine.",
    )
    demo_cases: bool = Field(
        default=True, description="Load examples/*.yaml into the case list at start."
    )
    examples_dir: Path | None = Field(
        default=None, description="Folder of demo cases (default: ./examples)."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    fhir_timeout_s: float = Field(
        default=10.0, gt=0, description="Timeout of a FHIR server fetch (CDS Hooks)."
    )
    cds_trusted_issuers: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "CDS Hooks clients whose JWT is accepted: issuer → JWKS URL or JWKS file. "
            "Empty: every CDS Hooks call is refused, unless cds_insecure_no_jwt."
        ),
    )
    cds_insecure_no_jwt: bool = Field(
        default=False,
        description=(
            "Accept CDS Hooks calls without a JWT (`cmvcds serve --insecure-no-jwt`): a local "
            "demo only, logged as a warning at start."
        ),
    )
    cds_jwt_leeway_s: float = Field(
        default=60, ge=0, le=300, description="Clock skew allowed on a CDS client's JWT."
    )
    cds_jwt_max_lifetime_s: float = Field(
        default=3600,
        gt=0,
        le=86400,
        description="Longest JWT lifetime (exp − iat) accepted; CDS Hooks recommends 5 minutes.",
    )
    cds_fhir_servers: list[str] = Field(
        default_factory=list,
        description=(
            "FHIR servers the CDS services may fetch from (base URLs; a request's fhirServer "
            "must equal one or lie under it). Empty: never fetch, prefetch only."
        ),
    )
    cds_language: Literal["en", "it"] = Field(
        default="en",
        description=(
            "Language of the CDS Hooks cards when the EHR's call does not ask for one of ours "
            "in its Accept-Language header (CDS Hooks 2.0 carries no language of its own)."
        ),
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL as the EHR reaches us (card links, JWT audience, SMART redirect).",
    )
    fhir_ca_file: Path | None = Field(
        default=None,
        description=(
            "PEM file of the certificate authorities trusted for https calls to FHIR and "
            "authorization servers (a hospital's own CA); default: the system's."
        ),
    )
    smart_client_id: str | None = Field(
        default=None,
        description=(
            "SMART on FHIR: the client_id the EHR's authorization server registered for cmvcds "
            "(a public client, PKCE S256). Unset: /smart/* is off and cards carry no smart link."
        ),
    )
    smart_fhir_servers: list[str] = Field(
        default_factory=list,
        description=(
            "SMART on FHIR: the FHIR servers (iss) an app launch may name, https base URLs; a "
            "launch from any other iss is refused before a request leaves the machine."
        ),
    )
    smart_scope: str = Field(
        default=(
            "patient/Patient.rs patient/Observation.rs patient/Condition.rs "
            "patient/MedicationRequest.rs patient/MedicationAdministration.rs "
            "patient/DiagnosticReport.rs patient/AllergyIntolerance.rs"
        ),
        description=(
            "SMART on FHIR: the resource scopes requested (read and search of the patient's "
            "record); `launch` or `launch/patient` is added by the kind of launch, and "
            "`openid fhirUser` / `online_access` where the server offers them."
        ),
    )
