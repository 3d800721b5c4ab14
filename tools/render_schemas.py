"""Write the published JSON Schemas to docs/schema/ (run after changing a vocabulary)."""

from __future__ import annotations

import json
from pathlib import Path

from cmvcds.adapters.schemas import assessment_schema, dose_schema

OUT = Path(__file__).resolve().parents[1] / "docs" / "schema"


def rendered() -> dict[str, str]:
    return {
        "assessment.schema.json": json.dumps(assessment_schema(), indent=2) + "\n",
        "dose.schema.json": json.dumps(dose_schema(), indent=2) + "\n",
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in rendered().items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote docs/schema/{name}")


if __name__ == "__main__":
    main()
