"""SMART on FHIR app launch (SMART App Launch 2.x): EHR and standalone launch, PKCE S256, the
assessment page of the patient in context. ``routes`` serves ``/smart``; ``oauth`` holds the
OAuth 2.0 steps; ``launches`` the launches in flight and the sessions they open."""

from cmvcds.adapters.smart.routes import router

__all__ = ["router"]
