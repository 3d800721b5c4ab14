"""Concurrent writers, slow clients and body bombs against the real server: nothing freezes.

Two users saving CRF forms at the same time froze PostgreSQL for good (the audit head was
locked by a request whose commit needed the blocked event loop), and on SQLite one client that
sent its form slowly made every other request wait 60 s and fail. Each test here keeps polling
``/api/v1/healthz`` and a logged-in page while the fault runs; each must answer in time.
"""

from __future__ import annotations

import json
import socket
import threading
import time

from cmvcds.registry.security import FREE_ATTEMPTS
from tests.registry.conftest import PASSWORD

from .client import Down, Server, User, request, saved

PROMPT = 2.0  # seconds: an answer slower than this while the fault runs is a failure


class Watch(threading.Thread):
    """Polls healthz (and a logged-in page) until stopped; keeps the slowest answers."""

    def __init__(self, port: int, user: User | None = None) -> None:
        super().__init__(daemon=True)
        self.port, self.user = port, user
        self.stop = threading.Event()
        self.slow: list[str] = []
        self.polls = 0

    def run(self) -> None:
        while not self.stop.is_set():
            for name, call in (("healthz", self._health), ("page", self._page)):
                started = time.monotonic()
                try:
                    status = call()
                except Down as error:
                    status = str(error)
                took = time.monotonic() - started
                if took > PROMPT or status not in (200, None):
                    self.slow.append(f"{name}: {status} after {took:.1f} s")
            self.polls += 1
            time.sleep(0.05)

    def _health(self) -> int:
        return request(self.port, "GET", "/api/v1/healthz", timeout=PROMPT * 3).status

    def _page(self) -> int | None:
        return self.user.call("GET", "/registry/").status if self.user else None

    def finish(self) -> list[str]:
        self.stop.set()
        self.join(timeout=30)
        return self.slow


def test_two_concurrent_crf_saves_complete(server: Server) -> None:
    users = [User(server.port, name, timeout=10) for name in ("entry_a", "pi_a")]
    pseudonyms = [u.enrol(f"MRN-TWO-{n}")[1] for n, u in enumerate(users)]
    assert all(pseudonyms)
    watch = Watch(server.port)
    watch.start()
    failures: list[str] = []

    def save(user: User, pseudonym: str) -> None:
        for n in range(8):
            value, reason = ("1", "") if n == 0 else (str(n % 2), "re-read the chart")
            try:
                reply = user.save_treated(pseudonym, value, reason)
            except Down as error:
                failures.append(str(error))
                return
            if not saved(reply):
                failures.append(f"{reply.status} {reply.body[:200]}")

    threads = [
        threading.Thread(target=save, args=(u, p)) for u, p in zip(users, pseudonyms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    slow = watch.finish()
    assert not failures, failures[:3]
    assert not slow, slow[:3]


def test_a_slow_client_does_not_hold_up_the_others(server: Server) -> None:
    writer = User(server.port, "entry_a")
    pseudonym = writer.enrol("MRN-SLOW")[1]
    reader = User(server.port, "pi_a")
    body = f"csrf={writer.csrf}&f_treated=1".encode()
    slow = socket.create_connection(("127.0.0.1", server.port))
    slow.sendall(
        f"POST /registry/subjects/{pseudonym}/valacyclovir_start/valacyclovir HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nCookie: cmvcds_registry={writer.token}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:10]
    )  # the rest of the form never comes (a stalled phone on a hospital network)
    try:
        time.sleep(0.3)
        watch = Watch(server.port, reader)
        watch.start()
        other = User(server.port, "entry_b")
        started = time.monotonic()
        reply, enrolled = other.enrol("MRN-OTHER")
        took = time.monotonic() - started
        time.sleep(1.5)
        slow_answers = watch.finish()
        assert enrolled and took < PROMPT, f"{reply.status} after {took:.1f} s"
        assert not slow_answers, slow_answers[:3]
        assert watch.polls >= 3
    finally:
        slow.close()


def test_a_form_bomb_is_refused_without_stalling_anyone(server: Server) -> None:
    """Tens of MB of form (each field under the parser's 1 MB part limit) are refused with 413."""
    reader = User(server.port, "pi_a")
    writer = User(server.port, "entry_a")
    pseudonym = writer.enrol("MRN-BOMB")[1]
    watch = Watch(server.port, reader)
    watch.start()
    form = "application/x-www-form-urlencoded"
    big = b"&".join(b"f_diagnosis_date=" + b"2" * 900_000 for _ in range(40))
    bombs = {
        "login, unauthenticated": ("/registry/login", b"username=x&" + big, {}),
        "CRF form": (f"/registry/subjects/{pseudonym}/maternal_diagnosis/maternal_infection",
                     f"csrf={writer.csrf}&".encode() + big,
                     {"Cookie": f"cmvcds_registry={writer.token}"}),
    }  # fmt: skip
    answers = {}
    for name, (path, body, headers) in bombs.items():
        started = time.monotonic()
        try:
            reply = request(server.port, "POST", path, body=body, timeout=30,
                            headers={"Content-Type": form, **headers})  # fmt: skip
            answers[name] = (reply.status, round(time.monotonic() - started, 1))
        except Down as error:  # the server may close the connection once it has refused
            answers[name] = (str(error), round(time.monotonic() - started, 1))
    slow = watch.finish()
    assert all(a[0] == 413 or "reset" in str(a[0]) or "Broken pipe" in str(a[0])
               for a in answers.values()), answers  # fmt: skip
    assert all(a[1] < PROMPT for a in answers.values()), answers
    assert not slow, slow[:3]


def test_concurrent_wrong_passwords_are_all_counted(server: Server) -> None:
    """30 guesses at once: only the free attempts are checked, the rest wait (429)."""
    body = json.dumps({"username": "dm", "password": "a wrong guess"}).encode()
    answers: list[int] = []

    def guess() -> None:
        reply = request(server.port, "POST", "/api/v1/registry/sessions", body=body,
                        headers={"Content-Type": "application/json"}, timeout=30)  # fmt: skip
        answers.append(reply.status)

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 30 and set(answers) <= {401, 429}, answers
    assert answers.count(401) <= FREE_ATTEMPTS, f"{answers.count(401)} passwords checked"
    right = json.dumps({"username": "dm", "password": PASSWORD}).encode()
    reply = request(server.port, "POST", "/api/v1/registry/sessions", body=right,
                    headers={"Content-Type": "application/json"})  # fmt: skip
    assert reply.status == 429 and "try again in" in reply.body, reply
