"""Follow a searchset Bundle's ``link[next]`` pages (FHIR R4 §3.1.1.3 paging), with a bound.

A FHIR server returns a long search in pages; a viral load that rises on page 2 is as real as one
on page 1. ``follow_pages`` fetches the next pages through a ``fetch`` callable (the CDS Hooks
adapter plugs in its own hardened HTTP client) and merges their entries. It refuses a next link
outside the server it was given, stops at a repeated link and after ``max_pages`` pages, and
says so in its notes: a search cut short is reported, never silently taken as complete.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cmvcds.adapters.fhir.reason import Reason

__all__ = ["MAX_PAGES", "Fetch", "follow_pages", "next_link"]

#: Pages read per search at most (the first included); at 100 entries per page, 2000 results.
MAX_PAGES = 20

#: Fetches one absolute URL and returns its JSON (raises on a transport or HTTP error).
Fetch = Callable[[str], Any]


def next_link(bundle: Any) -> str | None:
    """The ``next`` link of a searchset Bundle, if any."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return None
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
    return None


def follow_pages(
    bundle: dict[str, Any],
    fetch: Fetch | None,
    *,
    base: str | None,
    max_pages: int = MAX_PAGES,
    label: str = "search",
) -> tuple[dict[str, Any], list[str]]:
    """``bundle`` with the entries of its next pages appended, and what could not be read."""
    url = next_link(bundle)
    if url is None:
        return bundle, []
    if fetch is None or not base:
        return bundle, [
            Reason(
                "%(where)s: further pages (link next) not read: the request gives no fhirServer",
                where=label,
            )
        ]
    prefix = base.rstrip("/") + "/"
    merged = dict(bundle)
    merged["entry"] = list(bundle.get("entry") or [])
    seen = {url}
    pages = 1
    while url is not None:
        if not url.startswith(prefix):
            return merged, [
                Reason(
                    "%(where)s: next page %(url)s is outside the FHIR server %(base)s; not read",
                    where=label,
                    url=url,
                    base=base,
                )
            ]
        if pages >= max_pages:
            return merged, [
                Reason(
                    "%(where)s: stopped after %(n)s pages; later results not read",
                    where=label,
                    n=max_pages,
                )
            ]
        try:
            page = fetch(url)
        except Exception as error:  # any failure of the client's fetch is reported
            return merged, [
                Reason(
                    "%(where)s: page %(n)s could not be read (%(error)s)",
                    where=label,
                    n=pages + 1,
                    error=type(error).__name__,
                )
            ]
        if not isinstance(page, dict) or page.get("resourceType") != "Bundle":
            return merged, [
                Reason("%(where)s: page %(n)s is not a Bundle; not read", where=label, n=pages + 1)
            ]
        merged["entry"] += list(page.get("entry") or [])
        pages += 1
        url = next_link(page)
        if url in seen:
            return merged, [
                Reason(
                    "%(where)s: page %(n)s links back to an earlier page; stopped",
                    where=label,
                    n=pages,
                )
            ]
        if url is not None:
            seen.add(url)
    merged["link"] = [lk for lk in bundle.get("link") or [] if lk.get("relation") != "next"]
    return merged, []
