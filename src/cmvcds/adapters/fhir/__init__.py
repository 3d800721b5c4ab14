"""FHIR R4 → cmvcds case: the codes are knowledge (``knowledge/data/fhir``), the shapes stay here."""
