"""The faces of cmvcds: CLI, REST API, CDS Hooks, FHIR mapping, web pages, reports (top layer)."""
