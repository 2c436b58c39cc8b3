"""A page a person can shop on: the WebShop env served as HTML with the standard library.

Each browser gets its own ``proxmo/WebShop-v0`` env and episode (so the step limit, score and
reward are the agent's), found by a session cookie (HttpOnly, SameSite=Strict, a random token
from :mod:`secrets`); the server renders the session's current page elements
(:mod:`proxmo_bench.envs.webshop.site`) as HTML: the same state the text observation shows.
A request without a live session starts one with a new episode (a ``POST /act`` then acts on
nothing and just shows it). At most :data:`MAX_SESSIONS` sessions are kept; a new one evicts the
least recently used.

Routes:
- ``GET /``: the current page; ``GET /state.json``: observation, info, reward and flags as JSON
  (``HEAD`` as well).
- ``POST /act`` with form field ``action`` (``search`` plus ``query``, or a full action string
  such as ``click[buy now]``): one env step, then a redirect to ``/``.
- ``POST /reset`` with optional ``task_id`` or ``seed`` (a non-negative integer): a new episode.

It binds to the loopback interface only and is built to be left running there:
- Host header: only ``localhost``, ``127.0.0.1`` or ``[::1]`` (or the bound address) with the
  server's port is answered (421 otherwise), which defeats DNS rebinding; a ``POST`` must come
  from the same origin (``Origin``/``Sec-Fetch-Site``; 403 otherwise), and a cross-site request
  other than a top-level navigation is refused (it could only churn sessions).
- Bounded resources: a listen backlog of :data:`LISTEN_BACKLOG`; requests run on a pool of
  :data:`MAX_WORKERS` threads (not one thread per connection); beyond :data:`MAX_CONNECTIONS`
  accepted connections the next is answered 503 at once; a connection's whole request must arrive
  within :data:`REQUEST_TIMEOUT_S` seconds of its accept, so idle and trickling clients are
  dropped (408 when part of a request came); a form is at most :data:`MAX_FORM_BYTES` bytes and
  its ``Content-Length`` is checked before anything is read.
- Every bad request (malformed ``Content-Length``, bad seed or task id, unknown path, other
  methods, a form that is not UTF-8 ``application/x-www-form-urlencoded``) gets a 4xx with a short
  text body, never a dropped connection; an unexpected error is a 500 (logged), never a crash.
- Every response carries ``X-Content-Type-Options: nosniff``, a ``Content-Security-Policy``
  (no scripts; the page's one style by its hash), ``Referrer-Policy: no-referrer``,
  ``Cache-Control: no-store``, ``X-Frame-Options: DENY`` and
  ``Cross-Origin-Resource-Policy: same-origin``; one request per connection (``Connection: close``).

    python -m proxmo_bench.envs.webshop.server --port 8000 [--split test]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import html
import io
import ipaddress
import json
import logging
import re
import secrets
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import gymnasium

from proxmo_bench.envs.webshop.site import Element
from proxmo_bench.tasks import make

TASK_ID = "proxmo/WebShop-v0"
#: Largest accepted form body (bytes); a larger ``Content-Length`` is a 413 before any read.
MAX_FORM_BYTES = 64 * 1024
#: Most fields a form may have (the shop's forms have at most two).
MAX_FORM_FIELDS = 16
#: Browser sessions (each one env and episode) kept at once; the least recently used goes first.
MAX_SESSIONS = 64
#: Threads that serve requests; further accepted connections wait for one.
MAX_WORKERS = 16
#: Connections accepted and not yet finished; one more is answered 503 and closed.
MAX_CONNECTIONS = 512
#: ``listen()`` backlog: connections the kernel queues before the server accepts them.
LISTEN_BACKLOG = 512
#: Seconds from accept within which the whole request (line, headers, body) must arrive.
REQUEST_TIMEOUT_S = 10.0
#: Session cookie name, followed by the port (two shops on one host keep separate cookies).
COOKIE_PREFIX = "webshop_session_"

_MAX_LINE = 65536  # request line and header line limit, as http.server's
_DECIMAL = re.compile(r"[0-9]{1,19}")  # a seed or a Content-Length: digits only, no sign
# Path -> methods; anything else is 404 (unknown path) or 405 (known path, other method).
_ROUTES: dict[str, tuple[str, ...]] = {
    "/": ("GET", "HEAD"),
    "/state.json": ("GET", "HEAD"),
    "/act": ("POST",),
    "/reset": ("POST",),
}

logger = logging.getLogger(__name__)

_STYLE = """
body{font-family:sans-serif;max-width:60em;margin:1em auto;line-height:1.4}
.instruction{background:#eef;padding:.3em 1em}
form.inline{display:inline}
button{margin:.15em;padding:.3em .8em}
button.selected{background:#2a6;color:#fff}
.product{border:1px solid #ccc;border-radius:6px;padding:.5em;margin:.4em 0}
.status{color:#555;font-size:90%}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    (
        "Content-Security-Policy",
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'",
    ),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ShopApp:
    """One env and the last step's result, behind a lock (the HTTP server is threaded).

    Args:
        env: the episode's env.
        seed: seed of the first reset.
        lock: the lock to hold while the env runs; sessions share one, because their envs share
            the catalogue and its search index.
    """

    def __init__(
        self,
        env: gymnasium.Env[str, str],
        seed: int | None = None,
        *,
        lock: threading.Lock | None = None,
    ) -> None:
        self.env = env
        self.lock = lock if lock is not None else threading.Lock()
        with self.lock:
            self.obs, self.info = env.reset(seed=seed)
        self.reward = 0.0
        self.terminated = self.truncated = False

    def reset(self, task_id: str | None = None, seed: int | None = None) -> None:
        """A new episode. Raises ValueError (bad ``task_id``) or gymnasium's Error (bad seed)."""
        with self.lock:
            options = {"task_id": task_id} if task_id else None
            self.obs, self.info = self.env.reset(seed=seed, options=options)
            self.reward, self.terminated, self.truncated = 0.0, False, False

    def act(self, action: str) -> None:
        with self.lock:
            self.obs, reward, self.terminated, self.truncated, self.info = self.env.step(action)
            self.reward += float(reward)

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "observation": self.obs,
                "info": self.info,
                "total_reward": self.reward,
                "terminated": self.terminated,
                "truncated": self.truncated,
            }

    def render_html(self) -> str:
        with self.lock:
            session = self.env.unwrapped.session  # type: ignore[attr-defined]
            page = session.page()
            body = _render_elements(page.elements)
            status = (
                f"reward so far {self.reward:g}; score {self.info['score']:g}; "
                f"won {self.info['won']}; task {self.info['task_id']}"
            )
            if not self.info["action_valid"]:
                status = "Last action was not valid. " + status
            if self.terminated or self.truncated:
                status += " — episode over: " + ("bought" if self.terminated else "step limit")
        reset_form = (
            '<form method="post" action="/reset"><input name="task_id" '
            'placeholder="task id, e.g. test/0"><button>New episode</button></form>'
        )
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>WebShop</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(body)}"
            f"<p class='status'>{html.escape(status)}</p>{reset_form}</body></html>"
        )


class SessionStore:
    """Browser sessions: a random token -> its own :class:`ShopApp`, least recently used evicted.

    Args:
        new_app: makes the episode of a new session.
        max_sessions: most sessions kept; creating one more evicts the least recently used.
    """

    def __init__(self, new_app: Callable[[], ShopApp], max_sessions: int = MAX_SESSIONS) -> None:
        if max_sessions < 1:
            raise ValueError(f"max_sessions must be at least 1, got {max_sessions}")
        self.max_sessions = max_sessions
        self._new_app = new_app
        self._apps: OrderedDict[str, ShopApp] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str | None) -> ShopApp | None:
        """The session's app (now the most recently used), or None for an unknown token."""
        if not token:
            return None
        with self._lock:
            app = self._apps.get(token)
            if app is not None:
                self._apps.move_to_end(token)
            return app

    def create(self) -> tuple[str, ShopApp]:
        """A new session: its token (``secrets.token_urlsafe``, 256 bits) and app."""
        app = self._new_app()  # outside the store's lock: an env reset may take a while
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._apps[token] = app
            while len(self._apps) > self.max_sessions:
                self._apps.popitem(last=False)
        return token, app

    def __len__(self) -> int:
        with self._lock:
            return len(self._apps)


def _button(action: str, label: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return (
        f'<form class="inline" method="post" action="/act"><input type="hidden" '
        f'name="action" value="{html.escape(action, quote=True)}">'
        f"<button{cls}>{html.escape(label)}</button></form>"
    )


def _render_elements(elements: tuple[Element, ...]) -> list[str]:
    """HTML for a page; a product's ASIN button, title and price share one card."""
    out: list[str] = []
    i = 0
    while i < len(elements):
        e = elements[i]
        if e.kind == "product":
            details = "".join(f"<div>{html.escape(d.text)}</div>" for d in elements[i + 1 : i + 3])
            out.append(f'<div class="product">{_render_element(e)}{details}</div>')
            i += 3
        else:
            out.append(_render_element(e))
            i += 1
    return out


def _render_element(e: Element) -> str:
    text = html.escape(e.text)
    if e.kind == "instruction":
        if e.text == "Instruction:":
            return '<div class="instruction"><b>Instruction:</b></div>'
        return f'<div class="instruction">{text}</div>'
    if e.kind == "title":
        return f"<h2>{text}</h2>"
    if e.kind == "search_bar":
        return (
            '<form method="post" action="/act"><input type="hidden" name="action" '
            'value="search"><input name="query" size="60" placeholder="Search..." required>'
            "<button>Search</button></form>"
        )
    if e.kind == "button":
        return "" if e.text == "Search" else _button(f"click[{e.text.lower()}]", e.text)
    if e.kind == "product":
        return _button(f"click[{e.text.lower()}]", e.text)
    if e.kind == "option":
        return _button(f"click[{e.text}]", e.text, "selected" if e.selected else "")
    return f"<p>{text}</p>"


class _DeadlineReader(io.BufferedIOBase):
    """A connection's input, which must arrive before ``deadline`` (``time.monotonic`` seconds).

    Each wait for data is cut to the time left, so a client that trickles a byte at a time is
    dropped at the deadline like a silent one (a plain socket timeout restarts with every byte).
    Past the deadline, what has already arrived is still read: a request that waited for a free
    worker is served. Raises TimeoutError when the deadline passes with the input incomplete.
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self._buf = bytearray()
        self._eof = False
        #: Whether any byte arrived (a timeout then answers 408 instead of closing silently).
        self.received = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        """Append what arrives next to the buffer; False at the end of the input."""
        if self._eof:
            return False
        left = self._deadline - time.monotonic()
        self._sock.settimeout(left if left > 0 else 0.0)
        try:
            chunk = self._sock.recv(65536)
        except BlockingIOError:  # past the deadline and nothing waiting
            raise TimeoutError("the request did not arrive in time") from None
        if not chunk:
            self._eof = True
            return False
        self.received = True
        self._buf += chunk
        return True

    def readline(self, size: int | None = -1) -> bytes:
        limit = size if size is not None and size >= 0 else None
        start = 0
        while True:
            end = self._buf.find(b"\n", start, limit)
            if end >= 0:
                end += 1
                break
            if limit is not None and len(self._buf) >= limit:
                end = limit
                break
            start = len(self._buf)
            if not self._fill():
                end = len(self._buf)
                break
        line = bytes(self._buf[:end])
        del self._buf[:end]
        return line

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            while self._fill():
                pass
            size = len(self._buf)
        while len(self._buf) < size and self._fill():
            pass
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data


class _RequestError(Exception):
    """A request answered with an error status and a short text body."""

    def __init__(
        self, status: HTTPStatus, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class _Handler(BaseHTTPRequestHandler):
    """One connection, one request (HTTP/1.0 semantics; ``Connection: close``)."""

    default_request_version = "HTTP/1.0"  # answers to "GET /" (HTTP/0.9) carry headers too

    def version_string(self) -> str:
        return "WebShop"  # no Python version in the Server header

    def __init__(
        self,
        request: socket.socket,
        client_address: Any,
        server: ShopServer,
        deadline: float | None = None,
    ) -> None:
        self.shop = server
        self.deadline = time.monotonic() + server.request_timeout if deadline is None else deadline
        self.requestline, self.command, self.request_version = "", "", "HTTP/1.0"
        self._responded = False
        super().__init__(request, client_address, server)

    # ---- connection --------------------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the deadline reader replaces the plain buffered one
        self.rfile = self.reader = _DeadlineReader(self.connection, self.deadline)

    def handle(self) -> None:
        self.close_connection = True
        try:
            try:
                self._handle_request()
            except _RequestError as refusal:
                self._send_text(refusal.status, refusal.message, refusal.headers)
            except TimeoutError:
                if self.reader.received and not self._responded:
                    self._send_text(HTTPStatus.REQUEST_TIMEOUT, "request timed out")
            except OSError:
                pass  # the client went away
            except Exception:
                logger.exception("WebShop server: error answering %r", self.requestline)
                if not self._responded:
                    self._send_text(HTTPStatus.INTERNAL_SERVER_ERROR, "internal server error")
        except OSError:
            pass  # the client went away while the error answer was written

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    # ---- responses ---------------------------------------------------------------------------
    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS:
            self.send_header(name, value)
        super().end_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's error answers (bad request line, header limits) as short text."""
        status = HTTPStatus(code)
        self._send_text(status, message or status.phrase)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.connection.settimeout(self.shop.request_timeout)  # a client that does not read
        self._responded = True
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_text(
        self, status: HTTPStatus, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self._send(
            status, f"{status.value} {status.phrase}: {message}\n".encode(), "text/plain", headers
        )

    # ---- the request -------------------------------------------------------------------------
    def _handle_request(self) -> None:
        raw = self.reader.readline(_MAX_LINE + 1)
        if not raw:
            return  # connected and closed without a request
        if len(raw) > _MAX_LINE:
            raise _RequestError(HTTPStatus.REQUEST_URI_TOO_LONG, "request line too long")
        self.raw_requestline = raw
        if not self.parse_request():
            return  # answered through send_error
        if self.command not in ("GET", "HEAD", "POST"):
            raise _RequestError(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"method {self.command!r} is not served",
                {"Allow": "GET, HEAD, POST"},
            )
        host = self._checked_host()
        path = urlsplit(self.path).path
        methods = _ROUTES.get(path)
        if methods is None:
            raise _RequestError(HTTPStatus.NOT_FOUND, f"no page {path!r}")
        if self.command not in methods:
            raise _RequestError(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"{path} takes {' or '.join(methods)}",
                {"Allow": ", ".join(methods)},
            )
        if self.command == "POST":
            self._check_same_origin(host)
            form = self._read_form()
        else:
            self._check_fetch_site()
            form = {}
        seed = _parse_seed(form.get("seed")) if path == "/reset" else None
        if path == "/act" and "action" not in form:
            raise _RequestError(HTTPStatus.BAD_REQUEST, "missing form field 'action'")

        cookie = COOKIE_PREFIX + str(self.shop.server_address[1])
        app = self.shop.store.get(self._cookie_value(cookie))
        headers: dict[str, str] = {}
        fresh = app is None
        if app is None:
            token, app = self.shop.store.create()
            headers["Set-Cookie"] = f"{cookie}={token}; Path=/; HttpOnly; SameSite=Strict"

        if path == "/":
            self._send(HTTPStatus.OK, app.render_html().encode(), "text/html", headers)
        elif path == "/state.json":
            body = json.dumps(app.state()).encode()
            self._send(HTTPStatus.OK, body, "application/json", headers)
        else:
            if path == "/act" and not fresh:  # a fresh session's action was meant for another page
                action = form["action"]
                if action == "search":
                    action = f"search[{form.get('query', '')}]"
                app.act(action)
            elif path == "/reset":
                try:
                    app.reset(form.get("task_id") or None, seed)
                except (ValueError, gymnasium.error.Error) as exc:
                    raise _RequestError(HTTPStatus.BAD_REQUEST, str(exc), headers) from None
            self._send(HTTPStatus.SEE_OTHER, b"", None, {**headers, "Location": "/"})

    def _checked_host(self) -> str:
        """The request's Host (lowercased), one this server answers to, else refused."""
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            raise _RequestError(HTTPStatus.BAD_REQUEST, "send exactly one Host header")
        host = hosts[0].strip().lower()
        if host not in self.shop.allowed_hosts:
            port = self.shop.server_address[1]
            raise _RequestError(
                HTTPStatus.MISDIRECTED_REQUEST,
                f"this shop answers to http://127.0.0.1:{port}/ or http://localhost:{port}/ "
                f"only, not Host {host!r}",
            )
        return host

    def _check_same_origin(self, host: str) -> None:
        origin = self.headers.get("Origin")
        site = self.headers.get("Sec-Fetch-Site")
        # Browsers send Origin on every POST; clients that send none (curl, scripts) are local.
        if (origin is not None and origin.strip().lower() != f"http://{host}") or (
            site is not None and site != "same-origin"
        ):
            raise _RequestError(
                HTTPStatus.FORBIDDEN, "a form must be posted from the shop's own page"
            )

    def _check_fetch_site(self) -> None:
        # Another site may link to the shop (a top-level navigation); its images, frames and
        # fetches could only start sessions and evict real ones.
        site = self.headers.get("Sec-Fetch-Site")
        if site in ("cross-site", "same-site") and not (
            self.headers.get("Sec-Fetch-Mode") == "navigate"
            and self.headers.get("Sec-Fetch-Dest") == "document"
        ):
            raise _RequestError(
                HTTPStatus.FORBIDDEN, "open the shop directly, not from another site"
            )

    def _read_form(self) -> dict[str, str]:
        """The urlencoded form body: checked length, at most :data:`MAX_FORM_BYTES` read."""
        if self.headers.get("Transfer-Encoding") is not None:
            raise _RequestError(HTTPStatus.LENGTH_REQUIRED, "send the form with a Content-Length")
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            raise _RequestError(HTTPStatus.LENGTH_REQUIRED, "a POST needs a Content-Length")
        if len(lengths) > 1 or not _DECIMAL.fullmatch(lengths[0].strip()):
            raise _RequestError(HTTPStatus.BAD_REQUEST, "Content-Length must be one decimal number")
        length = int(lengths[0].strip())
        if length > MAX_FORM_BYTES:
            raise _RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"a form is at most {MAX_FORM_BYTES} bytes"
            )
        if self.headers.get_content_type() != "application/x-www-form-urlencoded":
            raise _RequestError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "send the form as application/x-www-form-urlencoded",
            )
        body = self.reader.read(length)
        if len(body) < length:
            raise _RequestError(
                HTTPStatus.BAD_REQUEST, "the body is shorter than its Content-Length"
            )
        try:
            fields = parse_qs(
                body.decode("utf-8"),
                keep_blank_values=True,
                errors="strict",
                max_num_fields=MAX_FORM_FIELDS,
            )
        except UnicodeDecodeError:
            raise _RequestError(HTTPStatus.BAD_REQUEST, "the form is not UTF-8") from None
        except ValueError:
            raise _RequestError(
                HTTPStatus.BAD_REQUEST, f"a form has at most {MAX_FORM_FIELDS} fields"
            ) from None
        repeated = sorted(k for k, v in fields.items() if len(v) > 1)
        if repeated:
            raise _RequestError(HTTPStatus.BAD_REQUEST, f"form fields given twice: {repeated}")
        return {k: v[0] for k, v in fields.items()}

    def _cookie_value(self, name: str) -> str | None:
        for header in self.headers.get_all("Cookie") or []:
            for part in header.split(";"):
                key, _, value = part.strip().partition("=")
                if key == name and value:
                    return value
        return None


def _parse_seed(seed: str | None) -> int | None:
    if not seed:
        return None
    if not _DECIMAL.fullmatch(seed):
        raise _RequestError(
            HTTPStatus.BAD_REQUEST, f"seed must be a non-negative integer, got {seed!r}"
        )
    return int(seed)


def _allowed_hosts(host: str, port: int) -> frozenset[str]:
    """Host header values that name this loopback server (the port is optional only on 80)."""
    names = {"localhost", "127.0.0.1", "[::1]", f"[{host}]" if ":" in host else host.lower()}
    allowed = {f"{name}:{port}" for name in names}
    return frozenset(allowed | names if port == 80 else allowed)


class ShopServer(HTTPServer):
    """The shop's HTTP server: sessions in ``store``, requests on a bounded pool of threads.

    Args:
        address: ``(host, port)`` to bind; ``port=0`` picks a free port.
        store: the browser sessions.
        max_workers: threads serving requests.
        max_connections: accepted, unfinished connections; one more is answered 503.
        request_timeout: seconds from accept within which a request must have arrived.
    """

    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        store: SessionStore,
        *,
        max_workers: int = MAX_WORKERS,
        max_connections: int = MAX_CONNECTIONS,
        request_timeout: float = REQUEST_TIMEOUT_S,
    ) -> None:
        for name, value in (("max_workers", max_workers), ("max_connections", max_connections)):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if not request_timeout > 0:
            raise ValueError(f"request_timeout must be positive seconds, got {request_timeout}")
        self.store = store
        self.request_timeout = float(request_timeout)
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._slots = threading.BoundedSemaphore(max_connections)
        self._open: set[socket.socket] = set()  # accepted, not yet finished
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)
        self.allowed_hosts = _allowed_hosts(address[0], self.server_address[1])
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="webshop-http")

    def process_request(self, request: Any, client_address: Any) -> None:
        """Queue the connection for a worker, or answer 503 when too many are waiting."""
        deadline = time.monotonic() + self.request_timeout
        if not self._slots.acquire(blocking=False):
            _refuse_overloaded(request)
            self.shutdown_request(request)
            return
        with self._open_lock:
            self._open.add(request)
        try:
            self._pool.submit(self._serve_connection, request, client_address, deadline)
        except RuntimeError:  # the pool was shut down (server closing)
            with self._open_lock:
                self._open.discard(request)
            self._slots.release()
            self.shutdown_request(request)

    def _serve_connection(
        self, request: socket.socket, client_address: Any, deadline: float
    ) -> None:
        try:
            _Handler(request, client_address, self, deadline)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)
            self.shutdown_request(request)
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.exception("WebShop server: error on the connection from %s", client_address)

    def server_close(self) -> None:
        """Stop listening and end the open connections (idle ones would wait for their deadline)."""
        super().server_close()
        with self._open_lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)  # a waiting read returns at once
        self._pool.shutdown(wait=True)


def _refuse_overloaded(request: socket.socket) -> None:
    headers = "".join(f"{name}: {value}\r\n" for name, value in SECURITY_HEADERS)
    body = b"503 Service Unavailable: too many connections; try again\n"
    head = (
        "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 1\r\n{headers}\r\n"
    )
    try:
        request.settimeout(1.0)
        request.sendall(head.encode() + body)
    except OSError:
        pass


def make_server(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    seed: int | None = None,
    max_sessions: int = MAX_SESSIONS,
    max_workers: int = MAX_WORKERS,
    max_connections: int = MAX_CONNECTIONS,
    request_timeout: float = REQUEST_TIMEOUT_S,
    **env_kwargs: Any,
) -> ShopServer:
    """An HTTP server (not yet serving) for the WebShop env; ``port=0`` picks a free port.

    Args:
        host: a loopback address (or ``localhost``).
        port: TCP port.
        seed: seed of every new session's first episode (None: a random goal each).
        max_sessions: browser sessions kept; the least recently used is evicted.
        max_workers: threads serving requests.
        max_connections: accepted, unfinished connections before a 503.
        request_timeout: seconds from accept within which a whole request must arrive.
        env_kwargs: passed to ``make("proxmo/WebShop-v0", ...)`` for every session's env.

    Raises:
        ValueError: ``host`` is not a loopback address (the shop is for this machine only) or a
            bound is not positive. Bad ``env_kwargs`` raise the env's own error here too.
    """
    if not _is_loopback(host):
        raise ValueError(f"the WebShop server binds to loopback only (127.0.0.1); got {host!r}")
    env_lock = threading.Lock()

    def new_app() -> ShopApp:
        return ShopApp(make(TASK_ID, **env_kwargs), seed=seed, lock=env_lock)

    new_app()  # bad env arguments fail here, not on the first page; loads the catalogue once
    return ShopServer(
        (host, port),
        SessionStore(new_app, max_sessions),
        max_workers=max_workers,
        max_connections=max_connections,
        request_timeout=request_timeout,
    )


def serve(host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
    """Serve the shop at ``http://host:port/`` until interrupted (Ctrl-C).

    ``options`` go to :func:`make_server` (server bounds and env arguments).
    """
    server = make_server(host, port, **options)
    print(f"WebShop at http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve WebShop as HTML on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--split", default="test")
    parser.add_argument("--source", default="generated", choices=["generated", "official"])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--goals", default="auto")
    args = parser.parse_args(argv)
    kwargs: dict[str, Any] = {"split": args.split, "source": args.source}
    if args.source == "official":
        kwargs.update(data_dir=args.data_dir, goals=args.goals)
    serve("127.0.0.1", args.port, **kwargs)


if __name__ == "__main__":
    main()
