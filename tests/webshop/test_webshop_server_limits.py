"""The shop server under load and hostile input: real sockets on 127.0.0.1, raw bytes where a
well-behaved client could not send them."""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from proxmo_bench.envs.webshop.server import (
    MAX_FORM_BYTES,
    SECURITY_HEADERS,
    ShopServer,
    make_server,
)
from tests.webshop.test_webshop_server import serving

FORM = "Content-Type: application/x-www-form-urlencoded\r\n"


@pytest.fixture(scope="module")
def server() -> Iterator[ShopServer]:
    with serving(request_timeout=2.0) as shop:
        yield shop


def _port(server: ShopServer) -> int:
    return int(server.server_address[1])


def _exchange(port: int, data: bytes, *, timeout: float = 10.0, half_close: bool = False) -> bytes:
    """Send ``data`` on a fresh connection and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _answer(
    port: int, data: bytes, *, timeout: float = 10.0, half_close: bool = False
) -> tuple[int, dict[str, str], str]:
    """Status, headers and body of the answer to ``data``; fails on a connection with no answer."""
    raw = _exchange(port, data, timeout=timeout, half_close=half_close)
    assert raw.startswith(b"HTTP/1.0 "), f"no HTTP answer, got {raw[:80]!r}"
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    assert int(headers["Content-Length"]) == len(body)
    for name, value in SECURITY_HEADERS:
        assert headers[name] == value
    return int(status_line.split()[1]), headers, body.decode()


def _post(port: int, path: str, body: str, extra: str = "", host: str = "") -> bytes:
    host = host or f"127.0.0.1:{port}"
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{FORM}Content-Length: {len(body.encode())}\r\n"
        f"{extra}\r\n{body}"
    ).encode()


def _get(port: int, path: str = "/", extra: str = "", host: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n{extra}\r\n".encode()


# ---- load ------------------------------------------------------------------------------------


def test_200_concurrent_requests_are_all_answered(server: ShopServer) -> None:
    port, n = _port(server), 200
    start = threading.Barrier(n)
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one_request(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            start.wait(timeout=60)
            conn.request("GET", "/" if i % 2 else "/state.json")
            response = conn.getresponse()
            response.read()
            with lock:
                statuses.append(response.status)
        except BaseException as exc:  # a reset, a refused or a dropped connection
            with lock:
                errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=one_request, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert statuses == [200] * n


def test_the_listen_backlog_queues_200_connections_while_none_is_accepted() -> None:
    # Linux drops a SYN beyond the backlog (the client retries it a second later; other systems
    # reset it): with http.server's backlog of 5, about 6 of the 200 get through here.
    server = make_server("127.0.0.1", 0, split="test")  # listening, never accepting
    clients = [socket.socket() for _ in range(200)]
    try:
        for client in clients:
            client.setblocking(False)
            client.connect_ex(server.server_address)
        time.sleep(0.5)
        server.socket.setblocking(False)
        accepted = 0
        with contextlib.suppress(BlockingIOError):
            while True:
                server.socket.accept()[0].close()
                accepted += 1
        assert accepted == 200
    finally:
        for client in clients:
            client.close()
        server.server_close()


def test_connections_share_a_bounded_pool_of_threads() -> None:
    with serving(max_workers=4, request_timeout=1.0) as server:
        port = _port(server)
        before = threading.active_count()
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
        try:
            time.sleep(0.5)
            assert threading.active_count() <= before + 4  # not a thread per connection
            # The idle ones are dropped at their deadline; then the next request is served.
            started = time.monotonic()
            status, _, _ = _answer(port, _get(port))
            assert status == 200 and time.monotonic() - started < 5
        finally:
            for conn in idle:
                conn.close()


def test_beyond_the_connection_bound_the_answer_is_503() -> None:
    with serving(max_workers=1, max_connections=2, request_timeout=2.0) as server:
        port = _port(server)
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        try:
            # The answer comes at accept, before any request is read.
            status, headers, body = _answer(port, b"", timeout=1.5)
            assert status == 503 and headers["Retry-After"] == "1" and "too many" in body
        finally:
            for conn in held:
                conn.close()


# ---- timeouts --------------------------------------------------------------------------------


def test_an_idle_connection_is_dropped_after_the_request_timeout() -> None:
    with serving(request_timeout=0.5) as server:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as conn:
            assert conn.recv(1024) == b""  # closed by the server, nothing said
        assert 0.4 < time.monotonic() - started < 3


def test_a_trickling_client_gets_408_at_the_deadline() -> None:
    # A byte every 0.1 s keeps a plain socket timeout of 0.5 s from ever firing.
    with serving(request_timeout=0.5) as server:
        port = _port(server)
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())
            answer = b""
            while time.monotonic() - started < 5:
                if select.select([conn], [], [], 0.1)[0]:
                    answer = conn.recv(65536)
                    break
                try:
                    conn.sendall(b"X")
                except OSError:
                    break
        assert answer.startswith(b"HTTP/1.0 408 ")
        assert time.monotonic() - started < 3


def test_a_body_shorter_than_its_length_times_out_with_408() -> None:
    with serving(request_timeout=0.5) as server:
        port = _port(server)
        request = (
            f"POST /act HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{FORM}Content-Length: 20\r\n\r\nact"
        )
        status, _, _ = _answer(port, request.encode())
        assert status == 408


# ---- malformed requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "status"),
    [
        ("-1", 400),
        ("abc", 400),
        ("", 400),
        ("+5", 400),
        ("0x10", 400),
        ("1e3", 400),
        ("99999999999999999999999", 400),  # more digits than any sane length
        (str(MAX_FORM_BYTES + 1), 413),
        ("40000000", 413),
    ],
)
def test_a_bad_content_length_is_refused_before_any_read(
    server: ShopServer, length: str, status: int
) -> None:
    port = _port(server)
    # No body follows: an answer proves the server did not wait to read one.
    request = (
        f"POST /act HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{FORM}Content-Length: {length}\r\n\r\n"
    )
    got, _, body = _answer(port, request.encode(), timeout=5)
    assert got == status and body.startswith(f"{status} ")


def test_a_missing_repeated_or_chunked_length_is_refused(server: ShopServer) -> None:
    port = _port(server)
    head = f"POST /act HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{FORM}"
    assert _answer(port, f"{head}\r\naction=x".encode(), half_close=True)[0] == 411
    chunked = f"{head}Transfer-Encoding: chunked\r\n\r\n8\r\naction=x\r\n0\r\n\r\n"
    assert _answer(port, chunked.encode())[0] == 411
    twice = f"{head}Content-Length: 8\r\nContent-Length: 9\r\n\r\naction=x"
    assert _answer(port, twice.encode())[0] == 400


def test_a_body_cut_short_by_the_client_is_400(server: ShopServer) -> None:
    port = _port(server)
    request = f"POST /act HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{FORM}Content-Length: 20\r\n\r\nact"
    assert _answer(port, request.encode(), half_close=True)[0] == 400


def test_an_oversized_body_being_sent_still_gets_its_413(server: ShopServer) -> None:
    port = _port(server)
    head = f"POST /act HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{FORM}Content-Length: 200000\r\n\r\n"
    status, _, _ = _answer(port, head.encode() + b"a" * 200_000)
    assert status == 413


@pytest.mark.parametrize("seed", ["-1", "abc", "1.5", " 3", "1" * 30])
def test_a_bad_seed_is_400(server: ShopServer, seed: str) -> None:
    port = _port(server)
    status, _, body = _answer(port, _post(port, "/reset", urlencode({"seed": seed})))
    assert status == 400 and "seed must be a non-negative integer" in body


def test_a_good_seed_and_a_bad_task_id(server: ShopServer) -> None:
    port = _port(server)
    assert _answer(port, _post(port, "/reset", "seed=7"))[0] == 303
    status, _, body = _answer(port, _post(port, "/reset", "task_id=test%2F99999"))
    assert status == 400 and "task_id" in body


@pytest.mark.parametrize(
    ("request_text", "status"),
    [
        ("GET /nowhere HTTP/1.1\r\nHost: {host}\r\n\r\n", 404),
        ("GET /act HTTP/1.1\r\nHost: {host}\r\n\r\n", 405),
        ("PUT / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n", 405),
        ("DELETE /state.json HTTP/1.1\r\nHost: {host}\r\n\r\n", 405),
        ("BREW / HTTP/1.1\r\nHost: {host}\r\n\r\n", 405),
        ("complete nonsense\r\n\r\n", 400),
        ("GET / HTTP/1.1 extra\r\nHost: {host}\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n" + "X-A: b\r\n" * 101 + "\r\n", 431),
        ("GET /" + "a" * 70000 + " HTTP/1.1\r\n\r\n", 414),
    ],
)
def test_bad_requests_get_a_4xx(server: ShopServer, request_text: str, status: int) -> None:
    port = _port(server)
    got, _, body = _answer(port, request_text.replace("{host}", f"127.0.0.1:{port}").encode())
    assert got == status and body.startswith(f"{status} ")


def test_a_post_to_get_only_pages_names_the_allowed_methods(server: ShopServer) -> None:
    port = _port(server)
    status, headers, _ = _answer(port, _post(port, "/state.json", "a=b"))
    assert status == 405 and headers["Allow"] == "GET, HEAD"


def test_head_is_answered_without_a_body(server: ShopServer) -> None:
    port = _port(server)
    raw = _exchange(port, f"HEAD / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 ") and body == b""


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("action=%ff%fe", FORM, 400),  # not UTF-8
        ("action=a&action=b", FORM, 400),  # a field twice
        ("&".join(f"f{i}=x" for i in range(40)), FORM, 400),  # too many fields
        ("query=shoes", FORM, 400),  # /act without an action
        ("action=click%5Bx%5D", "Content-Type: text/plain\r\n", 415),
        ("action=click%5Bx%5D", "", 415),
    ],
)
def test_a_bad_form_is_4xx(server: ShopServer, body: str, content_type: str, status: int) -> None:
    port = _port(server)
    request = (
        f"POST /act HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{content_type}"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )
    assert _answer(port, request.encode())[0] == status


def test_non_utf8_request_bytes_are_4xx_not_a_crash(server: ShopServer) -> None:
    port = _port(server)
    status, _, _ = _answer(port, b"GET /\xff\xfe HTTP/1.1\r\nHost: \xff\r\n\r\n")
    assert 400 <= status < 500
    assert _answer(port, _get(port))[0] == 200  # still serving


# ---- Host and Origin -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:{port}", 200),
        ("localhost:{port}", 200),
        ("LOCALHOST:{port}", 200),
        ("[::1]:{port}", 200),
        ("attacker.example:{port}", 421),  # DNS rebinding: a name that resolved to 127.0.0.1
        ("attacker.example", 421),
        ("127.0.0.1:1", 421),  # another port
        ("127.0.0.1", 421),  # the port is not 80
        ("localhost.:{port}", 421),
    ],
)
def test_only_loopback_host_names_are_answered(server: ShopServer, host: str, status: int) -> None:
    port = _port(server)
    assert _answer(port, _get(port, host=host.replace("{port}", str(port))))[0] == status


def test_a_request_without_one_host_header_is_400(server: ShopServer) -> None:
    port = _port(server)
    assert _answer(port, b"GET / HTTP/1.0\r\n\r\n")[0] == 400
    two = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: attacker.example\r\n\r\n"
    assert _answer(port, two.encode())[0] == 400


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ("", 303),  # no Origin: curl or a script on this machine
        ("Origin: http://127.0.0.1:{port}\r\nSec-Fetch-Site: same-origin\r\n", 303),
        ("Origin: http://attacker.example\r\n", 403),
        ("Origin: null\r\n", 403),
        ("Origin: http://127.0.0.1:1\r\n", 403),
        ("Origin: https://127.0.0.1:{port}\r\n", 403),
        ("Sec-Fetch-Site: cross-site\r\n", 403),
        ("Sec-Fetch-Site: same-site\r\n", 403),  # another port on localhost is "same-site"
    ],
)
def test_a_post_must_come_from_the_same_origin(server: ShopServer, extra: str, status: int) -> None:
    port = _port(server)
    request = _post(port, "/act", "action=click%5Bx%5D", extra.replace("{port}", str(port)))
    assert _answer(port, request)[0] == status


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ("Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Dest: image\r\n", 403),
        (
            "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: iframe\r\n",
            403,
        ),
        (
            "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document\r\n",
            200,
        ),
        ("Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document\r\n", 200),
    ],
)
def test_other_sites_may_link_to_the_shop_but_not_embed_it(
    server: ShopServer, extra: str, status: int
) -> None:
    port = _port(server)
    sessions = len(server.store)
    assert _answer(port, _get(port, extra=extra))[0] == status
    if status == 403:
        assert len(server.store) == sessions  # a refused request starts no session


def test_closing_the_server_ends_idle_connections_at_once() -> None:
    # Ctrl-C must not wait for an idle browser connection's deadline.
    with serving(request_timeout=30.0) as server:
        idle = socket.create_connection(("127.0.0.1", _port(server)))
        time.sleep(0.2)  # a worker is waiting on it
        started = time.monotonic()
    assert time.monotonic() - started < 5
    idle.close()


def test_the_ipv6_loopback_is_served_with_its_host_name() -> None:
    try:
        server = make_server("::1", 0, split="test")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = _port(server)
        with socket.create_connection(("::1", port), timeout=10) as conn:
            conn.sendall(f"GET / HTTP/1.1\r\nHost: [::1]:{port}\r\n\r\n".encode())
            assert conn.recv(12) == b"HTTP/1.0 200"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
