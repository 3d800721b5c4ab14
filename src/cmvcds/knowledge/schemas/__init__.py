"""Pydantic schemas of the knowledge tables, one module per domain (named in ``manifest.yaml``)."""
