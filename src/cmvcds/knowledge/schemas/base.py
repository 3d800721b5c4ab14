"""Row models shared by every knowledge table: a cited fact and a bibliographic source.

Every clinical number in cmvcds lives in a row that names its sources (``citations``) and says
whether it has been checked against the primary text (``verified``). The engine reports the
citations of each row it uses and raises an ``unverified-fact`` alert for each unverified one.
"""


from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """A frozen model that refuses unknown keys: a typo in knowledge is an error, not a default."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Fact(Strict):
    """A piece of knowledge the engine acts on, with its provenance."""

    citations: tuple[str, ...] = Field(min_length=1)
    verified: bool = True
    note: str | None = None


class SourceKind(StrEnum):
    """What a source is; the answer composer groups statements by it."""

    GUIDELINE = "guideline"
    LABEL = "label"
    RESEARCH = "research"
    REGULATORY = "regulatory"
    DATABASE = "database"
    STANDARD = "standard"


class Source(Strict):
    """One bibliographic entry of ``sources/*.yaml``; ids look like ``kimberlin2015-nejm-valganciclovir``."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
    kind: SourceKind
    authors: tuple[str, ...] = ()
    title: str
    venue: str | None = None
    year: int = Field(ge=1950, le=2100)
    doi: str | None = None
    url: str | None = None
    locator: str | None = None
    accessed: date | None = None
    verified: bool = True
    note: str | None = None

    def citation(self) -> str:
        """The reference as a clinician reads it in a bibliography."""
        authors = ", ".join(self.authors[:3]) + (" et al." if len(self.authors) > 3 else "")
        parts = [p.rstrip(".") for p in (authors, self.title, self.venue, str(self.year)) if p]
        text = ". ".join(parts) + "."
        if self.doi:
            text += f" doi:{self.doi}"
        return text


class TableSpec(Strict):
    """A table: its name, file (relative to the listing's folder) and schema ``module:Model``."""

    name: str
    file: str
    schema_: str = Field(alias="schema", pattern=r"^[a-z_]+:[A-Za-z_]+$")
    description: str


class Manifest(Strict):
    """``manifest.yaml``: the pack's name, version, release date and tables."""

    name: str
    version: str = Field(pattern=r"^\d{4}\.\d{1,2}\.\d+$")
    released: date
    tables: tuple[TableSpec, ...] = ()
