"""The HTML view: one episode driven over HTTP on loopback."""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from proxmo_bench.envs.webshop.server import make_server


@pytest.fixture
def base_url() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, split="test")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        body: str = r.read().decode()
        return body


def _post(url: str, **fields: str) -> str:
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
        body: str = r.read().decode()  # the redirect to / is followed
        return body


def _state(base: str) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(_get(f"{base}/state.json"))
    return state


def test_one_episode_over_http(base_url: str) -> None:
    page = _post(f"{base_url}/reset", task_id="test/1")
    state = _state(base_url)
    assert state["info"]["task_id"] == "test/1"
    assert 'name="query"' in page and state["info"]["instruction"].split(",")[0] in page
    page = _post(f"{base_url}/act", action="search", query=state["info"]["instruction"])
    state = _state(base_url)
    assert state["info"]["page"] == "results" and "Total results" in page
    product = next(a for a in state["info"]["admissible_actions"] if a.startswith("click[b0"))
    assert html_value(product) in page  # the button a person clicks posts the same action
    page = _post(f"{base_url}/act", action=product)
    assert "Buy Now" in page and _state(base_url)["info"]["page"] == "item"
    page = _post(f"{base_url}/act", action="click[buy now]")
    state = _state(base_url)
    assert state["terminated"] is True and "Thank you for shopping with us!" in page
    assert state["info"]["score"] == pytest.approx(float(state["observation"].split(" [SEP] ")[-1]))


def html_value(action: str) -> str:
    return f'value="{action}"'


def test_invalid_action_is_reported(base_url: str) -> None:
    page = _post(f"{base_url}/act", action="click[nothing here]")
    assert "Last action was not valid" in page
    assert _state(base_url)["info"]["action_valid"] is False


def test_binds_to_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        make_server("0.0.0.0", 0)
