"""SMART App Launch 2.2 driven for real: cmvcds against a local OAuth 2.0 authorization server and
FHIR server over TLS (``ehr.py``), the browser's part played by an HTTP client with a cookie jar.

The record is the EHR corpus's ``pregnancy-igg-presence-13949`` (US Core serology: CMV IgG
negative then positive, IgM positive, seroconversion at GA 10+1): its CDS card says valacyclovir
prevention is recommended, and the page the launch opens must say the same for the same patient.
"""

from __future__ import annotations

import html
import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import create_engine, select, update

from cmvcds.adapters.smart.oauth import code_challenge
from cmvcds.adapters.smart.routes import STATE_COOKIE
from cmvcds.registry.web_tables import smart_launches, web_case_versions, web_cases
from tests.fhir.ehr.generate import creat, foreign_results, no_subject
from tests.smart.conftest import CLIENT_ID, Site

PATIENT = "us-preg-13949"


def _browser(site: Site) -> httpx.Client:
    return httpx.Client(verify=site.tls(), follow_redirects=False, timeout=30)


def _to_callback(browser: httpx.Client, site: Site, start: httpx.Response) -> str:
    """Follow the launch to the EHR, approve there, return the callback URL it sends back."""
    assert start.status_code == 302, start.text
    authorize = browser.get(start.headers["location"])
    assert authorize.status_code == 200, authorize.text
    approval = re.search(r'name=approval value="([^"]+)"', authorize.text)
    assert approval is not None
    patient = re.search(r'<option value="([^"]+)"', authorize.text)
    assert patient is not None
    approved = browser.post(
        f"{site.ehr.base}/auth/approve",
        data={"approval": approval.group(1), "patient": patient.group(1)},
    )
    assert approved.status_code == 302
    return approved.headers["location"]


def _ehr_launch(browser: httpx.Client, site: Site) -> httpx.Response:
    launch = site.ehr.new_launch(PATIENT)
    return browser.get(
        f"{site.cmvcds}/smart/launch", params={"iss": site.ehr.fhir, "launch": launch}
    )


def test_ehr_launch_opens_the_assessment_of_the_patient_in_context(site: Site) -> None:
    with _browser(site) as browser:
        start = _ehr_launch(browser, site)
        asked = parse_qs(urlsplit(start.headers["location"]).query)
        assert start.headers["location"].startswith(f"{site.ehr.base}/auth/authorize?")
        assert asked["response_type"] == ["code"] and asked["client_id"] == [CLIENT_ID]
        assert asked["aud"] == [site.ehr.fhir]
        assert asked["code_challenge_method"] == ["S256"]
        assert asked["scope"][0].split()[0] == "launch" and "launch" in asked
        assert asked["redirect_uri"] == [f"{site.cmvcds}/smart/callback"]
        state = asked["state"][0]
        assert len(state) >= 43  # 256 bits; the spec asks for at least 122
        # the challenge is S256 of the verifier cmvcds keeps for the token request
        engine = create_engine(site.database)
        with engine.connect() as connection:
            verifier = connection.execute(select(smart_launches.c.code_verifier)).scalar_one()
        assert code_challenge(verifier) == asked["code_challenge"][0]

        callback = _to_callback(browser, site, start)
        finished = browser.get(callback)
        assert finished.status_code == 303, finished.text
        assert finished.headers["location"] == "/smart/assessment"
        page = browser.get(f"{site.cmvcds}/smart/assessment")
        assert page.status_code == 200, page.text
        assert f'data-case="cds-{PATIENT}"' in page.text
        assert 'data-decision="valacyclovir-prevention" data-outcome="recommended"' in page.text
        # the FHIR reads carried the token and stayed in the patient's compartment
        token = next(iter(site.ehr.tokens))
        reads = [u for u in site.ehr.seen if "/fhir/" in u and "well-known" not in u]
        assert f"{site.ehr.fhir}/Patient/{PATIENT}" in reads
        assert any(u.startswith(f"{site.ehr.fhir}/Observation?patient={PATIENT}") for u in reads)
        # the access token is kept only sealed with the session cookie; the verifier is gone
        with engine.connect() as connection:
            row = connection.execute(select(smart_launches)).one()
            stored = connection.execute(select(web_cases)).one()
        assert row.status == "done" and row.code_verifier == ""
        assert token not in str(tuple(row)) and token not in stored.raw_json
        assert stored.origin == "smart"
        # production mode: the session opens its case's pages, nothing else
        key = stored.id
        assert browser.get(f"{site.cmvcds}/cases/{key}").status_code == 200
        assert browser.get(f"{site.cmvcds}/cases/{key}/assessment.json").status_code == 200
        assert browser.get(f"{site.cmvcds}/cases/{key + 1}").status_code == 303  # to login
        assert browser.get(f"{site.cmvcds}/").status_code == 303
        engine.dispose()
    # another browser without the session cookie gets nothing
    with _browser(site) as stranger:
        assert stranger.get(f"{site.cmvcds}/smart/assessment").status_code == 401
        assert stranger.get(f"{site.cmvcds}/cases/{key}").status_code == 303


def test_standalone_launch_asks_the_ehr_for_the_patient(site: Site) -> None:
    with _browser(site) as browser:
        chooser = browser.get(f"{site.cmvcds}/smart/standalone")
        assert chooser.status_code == 200 and site.ehr.fhir in chooser.text
        start = browser.get(f"{site.cmvcds}/smart/standalone", params={"iss": site.ehr.fhir})
        asked = parse_qs(urlsplit(start.headers["location"]).query)
        assert "launch" not in asked and asked["scope"][0].startswith("launch/patient ")
        finished = browser.get(_to_callback(browser, site, start))
        assert finished.status_code == 303
        page = browser.get(f"{site.cmvcds}/smart/assessment")
        assert 'data-decision="valacyclovir-prevention" data-outcome="recommended"' in page.text


def test_a_wrong_or_replayed_state_is_refused_before_any_token_request(site: Site) -> None:
    with _browser(site) as browser:
        callback = _to_callback(browser, site, _ehr_launch(browser, site))
        forged = re.sub(r"state=[^&]+", "state=forged", callback)
        refused = browser.get(forged)
        assert refused.status_code == 400
        assert "state does not match" in refused.text
        # the right state, from a browser that did not start the launch (login CSRF)
        with _browser(site) as other:
            assert "state does not match" in other.get(callback).text
        assert "/auth/token" not in site.ehr.seen
        assert browser.get(callback).status_code == 303  # the genuine callback still works
        replayed = browser.get(callback)  # the state cookie went with the first use
        assert replayed.status_code == 400 and "state does not match" in replayed.text
        # even with the cookie put back (a second tab), the launch is claimed once only
        state = parse_qs(urlsplit(callback).query)["state"][0]
        browser.cookies.set(STATE_COOKIE, state, domain="127.0.0.1", path="/smart")
        replayed = browser.get(callback)
        assert replayed.status_code == 400 and "already used" in replayed.text
        assert site.ehr.seen.count("/auth/token") == 1


def test_an_iss_off_the_allow_list_gets_no_request(site: Site) -> None:
    with _browser(site) as browser:
        for iss in (
            f"{site.ehr.base}/other-fhir",  # same host, another base
            f"{site.ehr.fhir}evil",  # a look-alike of the allowed base
            site.ehr.fhir.replace("https://", "http://"),  # not https
            "https://169.254.169.254/latest",
        ):
            launch = site.ehr.new_launch(PATIENT)
            refused = browser.get(
                f"{site.cmvcds}/smart/launch", params={"iss": iss, "launch": launch}
            )
            assert refused.status_code == 403, iss
            assert "allow-list" in refused.text
    assert site.ehr.seen == []


def test_a_server_without_pkce_s256_is_refused(site: Site) -> None:
    site.ehr.offer_s256 = False
    with _browser(site) as browser:
        refused = _ehr_launch(browser, site)
        assert refused.status_code == 400
        assert "does not offer PKCE with S256" in refused.text
    assert site.ehr.seen == ["/fhir/.well-known/smart-configuration"]  # never sent to authorize


def test_the_ehr_refusing_the_launch_is_said(site: Site) -> None:
    with _browser(site) as browser:
        start = _ehr_launch(browser, site)
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        refused = browser.get(
            f"{site.cmvcds}/smart/callback", params={"error": "access_denied", "state": state}
        )
        assert refused.status_code == 403 and "access_denied" in refused.text
        assert "/auth/token" not in site.ehr.seen


def test_a_launch_id_the_ehr_never_issued_ends_in_an_error(site: Site) -> None:
    with _browser(site) as browser:
        start = browser.get(
            f"{site.cmvcds}/smart/launch", params={"iss": site.ehr.fhir, "launch": "made-up"}
        )
        back = browser.get(start.headers["location"])  # the EHR answers with an error redirect
        assert back.status_code == 302
        refused = browser.get(back.headers["location"])
        assert refused.status_code == 403 and "invalid_request" in refused.text


def test_the_record_is_read_in_pages_newest_first(site: Site) -> None:
    """The EHR returns at most two entries a page: the service asks for pages of 100 sorted
    newest first, follows every ``link[next]`` and assesses the whole record."""
    site.ehr.max_count = 2
    with _browser(site) as browser:
        assert browser.get(_to_callback(browser, site, _ehr_launch(browser, site))).is_redirect
        page = browser.get(f"{site.cmvcds}/smart/assessment")
    assert 'data-decision="valacyclovir-prevention" data-outcome="recommended"' in page.text
    searches = [u for u in site.ehr.seen if "/fhir/Observation?" in u]
    assert "_count=100" in searches[0] and "_sort=-date" in searches[0]
    observations = [
        r for r in site.ehr.resources["Observation"] if r["subject"]["reference"].endswith(PATIENT)
    ]
    assert len(searches) == (len(observations) + 1) // 2  # every page read, none twice


def test_another_patients_results_from_a_faulty_search_are_not_used_and_said(
    site: Site,
) -> None:
    """PROBE1 D4: the EHR's searches also return another patient's creatinine 1.5 (over the
    renal cut-off: read, it would exclude valacyclovir) and a result naming no patient. The
    launch's page still recommends valacyclovir, as for the record alone, and names both."""
    other_cr = foreign_results(PATIENT, "us-preg-other")[0]
    site.ehr.strays = [other_cr, no_subject(creat("stray-cr", PATIENT, "2026-11-20", 1.5))]
    with _browser(site) as browser:
        assert browser.get(_to_callback(browser, site, _ehr_launch(browser, site))).is_redirect
        page = browser.get(f"{site.cmvcds}/smart/assessment")
    assert 'data-decision="valacyclovir-prevention" data-outcome="recommended"' in page.text
    text = html.unescape(page.text)
    assert (
        "Not this patient's, not used: Observation/us-preg-other-cr not used: its subject "
        f"'Patient/us-preg-other' is another patient, not Patient/{PATIENT}"
    ) in text
    assert "Observation/stray-cr not used: it names no patient" in text


def test_openid_fhiruser_the_id_token_is_checked_and_says_who_signed_in(site: Site) -> None:
    with _browser(site) as browser:
        start = _ehr_launch(browser, site)
        asked = parse_qs(urlsplit(start.headers["location"]).query)
        scopes = asked["scope"][0].split()
        assert {"openid", "fhirUser", "online_access"} <= set(scopes)
        assert len(asked["nonce"][0]) >= 43
        assert browser.get(_to_callback(browser, site, start)).status_code == 303
        page = browser.get(f"{site.cmvcds}/smart/assessment")
    assert f"Signed in at the EHR as {site.ehr.fhir}/Practitioner/dr-rossi" in page.text
    assert "data-smart-reload" in page.text
    assert "/auth/jwks" in site.ehr.seen  # the signature was checked with the EHR's own key


def test_the_notes_are_kept_sealed_and_nothing_is_left_once_the_session_expires(
    site: Site,
) -> None:
    """Review: the notes (who signed in at the EHR, another patient's resources refused) were
    stored in clear, and an expired session's row kept its sealed tokens. The page still says
    them; the database holds them only sealed; once the session has expired the next access
    deletes the row."""
    site.ehr.strays = foreign_results(PATIENT, "us-preg-other")[:1]
    engine = create_engine(site.database)
    with _browser(site) as browser:
        assert browser.get(_to_callback(browser, site, _ehr_launch(browser, site))).is_redirect
        page = html.unescape(browser.get(f"{site.cmvcds}/smart/assessment").text)
        assert "Signed in at the EHR as " in page and "us-preg-other" in page
        with engine.connect() as connection:
            row = connection.execute(select(smart_launches)).one()
        kept = str(tuple(row))
        assert row.notes_json and row.tokens_sealed
        assert "dr-rossi" not in kept and "Signed in" not in kept and "us-preg-other" not in kept
        with engine.begin() as connection:  # eight hours later
            connection.execute(update(smart_launches).values(session_expires_at=time.time() - 1))
        assert browser.get(f"{site.cmvcds}/smart/assessment").status_code == 401
    with engine.connect() as connection:
        assert connection.execute(select(smart_launches)).all() == []
    engine.dispose()


def _forged_key() -> object:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"aud": "another-app"}, "not valid (Audience doesn't match)"),
        ({"iss": "https://127.0.0.1:1/other"}, "not valid (Invalid issuer)"),
        ({"exp": 1_000_000_000, "iat": 999_999_000}, "not valid (Signature has expired)"),
        ({"nonce": "not-the-launch-nonce"}, "nonce is not the one this launch sent"),
        ("forged signature", "not valid (Signature verification failed)"),
    ],
)
def test_an_id_token_that_does_not_check_stops_the_launch_before_any_read(
    site: Site, changes: object, said: str
) -> None:
    if changes == "forged signature":
        site.ehr.forger = _forged_key()  # type: ignore[assignment]
    else:
        site.ehr.id_token_changes = dict(changes)  # type: ignore[call-overload]
    with _browser(site) as browser:
        refused = browser.get(_to_callback(browser, site, _ehr_launch(browser, site)))
        assert refused.status_code == 502, refused.text
        assert said in html.unescape(refused.text)
        assert browser.get(f"{site.cmvcds}/smart/assessment").status_code == 401
    assert not [u for u in site.ehr.seen if "/fhir/Patient" in u or "/fhir/Observation" in u]
    engine = create_engine(site.database)
    with engine.connect() as connection:
        assert connection.execute(select(web_cases)).first() is None
    engine.dispose()


def test_without_openid_on_offer_nothing_is_asked_and_the_launch_still_works(site: Site) -> None:
    site.ehr.openid = False
    with _browser(site) as browser:
        start = _ehr_launch(browser, site)
        asked = parse_qs(urlsplit(start.headers["location"]).query)
        assert "openid" not in asked["scope"][0].split() and "nonce" not in asked
        assert browser.get(_to_callback(browser, site, start)).status_code == 303
        page = browser.get(f"{site.cmvcds}/smart/assessment")
    assert 'data-decision="valacyclovir-prevention" data-outcome="recommended"' in page.text
    assert "Signed in at the EHR" not in page.text and "/auth/jwks" not in site.ehr.seen


def test_an_expired_access_token_is_renewed_with_the_refresh_token(site: Site) -> None:
    """Access tokens live 20 s here (cmvcds renews one within 30 s of its end): reading the
    record again first trades the refresh token, which the EHR replaces at each use."""
    site.ehr.access_ttl_s = 20
    with _browser(site) as browser:
        assert browser.get(_to_callback(browser, site, _ehr_launch(browser, site))).is_redirect
        first_access = next(iter(site.ehr.tokens))
        first_refresh = next(iter(site.ehr.refresh_tokens))
        for round_ in (1, 2):
            again = browser.post(f"{site.cmvcds}/smart/reload")
            assert again.status_code == 303, again.text
            page = browser.get(f"{site.cmvcds}/smart/assessment")
            assert 'data-outcome="recommended"' in page.text
            assert len(site.ehr.tokens) == 1 + round_  # one new access token per reading
        assert first_refresh not in site.ehr.refresh_tokens  # used, and replaced
    engine = create_engine(site.database)
    with engine.connect() as connection:
        row = connection.execute(select(smart_launches)).one()
        cases = connection.execute(select(web_cases.c.id)).scalars().all()
        changes = (
            connection.execute(
                select(web_case_versions.c.change).order_by(web_case_versions.c.version)
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert cases == [row.case_key]  # one case: each reading is its next version
    assert changes == ["created (smart)", *["read again from the EHR (SMART)"] * 2]
    # sealed: no token in clear in the database
    stored = str(tuple(row))
    for secret in [first_access, first_refresh, *site.ehr.tokens, *site.ehr.refresh_tokens]:
        assert secret not in stored


def test_an_expired_token_without_a_refresh_token_asks_for_a_new_launch(site: Site) -> None:
    site.ehr.online, site.ehr.access_ttl_s = False, 20
    with _browser(site) as browser:
        start = _ehr_launch(browser, site)
        assert (
            "online_access" not in parse_qs(urlsplit(start.headers["location"]).query)["scope"][0]
        )
        assert browser.get(_to_callback(browser, site, start)).is_redirect
        refused = browser.post(f"{site.cmvcds}/smart/reload")
        assert refused.status_code == 502
        assert "expired and the EHR gave no refresh token" in refused.text
    with _browser(site) as stranger:  # no session: nothing to reload
        assert stranger.post(f"{site.cmvcds}/smart/reload").status_code == 401


def test_the_launch_pages_speak_italian_to_an_italian_browser(site: Site) -> None:
    with _browser(site) as browser:
        browser.headers["Accept-Language"] = "it-IT,it;q=0.9"
        refused = browser.get(
            f"{site.cmvcds}/smart/launch",
            params={"iss": "https://169.254.169.254/fhir", "launch": "x"},
        )
        text = html.unescape(refused.text)
        assert refused.status_code == 403 and '<html lang="it">' in text
        assert "<h1>Avvio dell'app rifiutato</h1>" in text
        assert "non è nell'elenco dei server ammessi di questa installazione" in text
        assert "Nulla è stato letto dalla cartella" in text
        chooser = html.unescape(browser.get(f"{site.cmvcds}/smart/standalone").text)
        assert "Apri un paziente dal sistema clinico (EHR)" in chooser
        assert browser.get(_to_callback(browser, site, _ehr_launch(browser, site))).is_redirect
        page = html.unescape(browser.get(f"{site.cmvcds}/smart/assessment").text)
    assert "Rileggi la cartella dal sistema clinico (EHR)" in page
    assert (
        f"Accesso al sistema clinico (EHR) eseguito come {site.ehr.fhir}/Practitioner/dr-rossi"
        in page
    )


def test_a_refusal_from_the_ehrs_answers_is_said_in_italian_too(site: Site) -> None:
    site.ehr.offer_s256 = False
    with _browser(site) as browser:
        browser.headers["Accept-Language"] = "it"
        refused = _ehr_launch(browser, site)
    text = html.unescape(refused.text)
    assert refused.status_code == 400
    assert f"il server di autorizzazione di {site.ehr.fhir} non offre PKCE con S256" in text
