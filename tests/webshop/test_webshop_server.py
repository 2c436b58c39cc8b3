"""The HTML view: episodes driven over HTTP on loopback, one per browser session (cookie)."""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from proxmo_bench.envs.webshop.server import SECURITY_HEADERS, ShopServer, make_server


@contextmanager
def serving(**options: Any) -> Iterator[ShopServer]:
    """A shop serving on 127.0.0.1 (a free port) in a thread, shut down afterwards."""
    server = make_server("127.0.0.1", 0, split="test", **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Browser:
    """One browser: its own cookie jar, so its own session on the shop."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.last_headers: dict[str, str] = {}

    def get(self, path: str = "/") -> str:
        with self.opener.open(self.base + path, timeout=10) as r:
            self.last_headers = dict(r.headers.items())
            body: str = r.read().decode()
            return body

    def post(self, path: str, **fields: str) -> str:
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.base + path, data=data)
        with self.opener.open(request, timeout=10) as r:  # the redirect to / is followed
            body: str = r.read().decode()
            return body

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(self.get("/state.json"))
        return state

    def token(self) -> str:
        (cookie,) = list(self.jar)
        assert cookie.value is not None
        return cookie.value


@pytest.fixture
def base_url() -> Iterator[str]:
    with serving() as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


def test_one_episode_over_http(base_url: str) -> None:
    shopper = Browser(base_url)
    page = shopper.post("/reset", task_id="test/1")
    state = shopper.state()
    assert state["info"]["task_id"] == "test/1"
    assert 'name="query"' in page and state["info"]["instruction"].split(",")[0] in page
    page = shopper.post("/act", action="search", query=state["info"]["instruction"])
    state = shopper.state()
    assert state["info"]["page"] == "results" and "Total results" in page
    product = next(a for a in state["info"]["admissible_actions"] if a.startswith("click[b0"))
    assert html_value(product) in page  # the button a person clicks posts the same action
    page = shopper.post("/act", action=product)
    assert "Buy Now" in page and shopper.state()["info"]["page"] == "item"
    page = shopper.post("/act", action="click[buy now]")
    state = shopper.state()
    assert state["terminated"] is True and "Thank you for shopping with us!" in page
    assert state["info"]["score"] == pytest.approx(float(state["observation"].split(" [SEP] ")[-1]))


def html_value(action: str) -> str:
    return f'value="{action}"'


def test_invalid_action_is_reported(base_url: str) -> None:
    shopper = Browser(base_url)
    shopper.get("/")
    page = shopper.post("/act", action="click[nothing here]")
    assert "Last action was not valid" in page
    assert shopper.state()["info"]["action_valid"] is False


def test_an_action_without_a_session_starts_one_and_does_nothing(base_url: str) -> None:
    # The action was chosen on a page of a session this server no longer has.
    shopper = Browser(base_url)
    page = shopper.post("/act", action="click[nothing here]")
    assert "Last action was not valid" not in page
    assert shopper.state()["info"]["action_valid"] is True
    assert shopper.state()["info"]["page"] == "search"


def test_binds_to_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        make_server("0.0.0.0", 0)


def test_the_session_cookie_is_random_httponly_and_strict(base_url: str) -> None:
    first, second = Browser(base_url), Browser(base_url)
    first.get("/")
    set_cookie = first.last_headers["Set-Cookie"]
    assert re.fullmatch(
        r"webshop_session_\d+=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict", set_cookie
    )
    first.get("/")
    assert "Set-Cookie" not in first.last_headers  # the session is known now
    second.get("/")
    assert first.token() != second.token()


def test_two_browsers_play_independent_episodes(base_url: str) -> None:
    alice, bob = Browser(base_url), Browser(base_url)
    alice.post("/reset", task_id="test/1")
    bob.post("/reset", task_id="test/2")
    alice.post("/act", action="search", query="anything at all")
    alice_state, bob_state = alice.state(), bob.state()
    assert alice_state["info"]["task_id"] == "test/1" and alice_state["info"]["page"] == "results"
    assert bob_state["info"]["task_id"] == "test/2" and bob_state["info"]["page"] == "search"
    bob.post("/act", action="click[nothing here]")
    assert alice.state()["info"]["action_valid"] is True  # Bob's invalid step is not Alice's
    assert bob.state()["info"]["action_valid"] is False


def test_sessions_are_bounded_and_the_least_recently_used_is_evicted() -> None:
    with serving(max_sessions=2) as server:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        a, b, c = Browser(base), Browser(base), Browser(base)
        a.post("/reset", task_id="test/1")
        b.post("/reset", task_id="test/2")
        a.get("/")  # a is now more recently used than b
        c.get("/")  # a third session: b's goes
        assert len(server.store) == 2
        a.get("/")
        assert "Set-Cookie" not in a.last_headers
        assert a.state()["info"]["task_id"] == "test/1"
        old_token = b.token()
        b.get("/")
        assert "Set-Cookie" in b.last_headers and b.token() != old_token  # a new session
        assert len(server.store) == 2


def test_every_response_carries_the_security_headers(base_url: str) -> None:
    shopper = Browser(base_url)
    shopper.get("/")
    responses = [shopper.last_headers]
    shopper.get("/state.json")
    responses.append(shopper.last_headers)
    no_redirect = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(shopper.jar), _NoRedirect()
    )
    for path, data in (("/act", b"action=click%5Bx%5D"), ("/nowhere", None)):
        with pytest.raises(urllib.error.HTTPError) as caught:
            no_redirect.open(urllib.request.Request(base_url + path, data=data), timeout=10)
        assert caught.value.code == (303 if data else 404)
        responses.append(dict(caught.value.headers.items()))
        caught.value.close()
    for headers in responses:
        for name, value in SECURITY_HEADERS:
            assert headers[name] == value
    assert responses[0]["Cache-Control"] == "no-store"
    assert responses[0]["X-Content-Type-Options"] == "nosniff"


def test_the_content_security_policy_allows_the_page_style_only(base_url: str) -> None:
    shopper = Browser(base_url)
    page = shopper.get("/")
    (style,) = re.findall(r"<style>(.*?)</style>", page, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = shopper.last_headers["Content-Security-Policy"]
    assert f"style-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy
    assert "<script" not in page


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
