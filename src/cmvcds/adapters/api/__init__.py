"""The HTTP side of cmvcds: ``create_app`` (web pages, ``/api/v1``, ``/cds-services``) and its settings."""
