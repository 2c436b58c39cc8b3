"""A page a person can shop on: the WebShop env served as HTML with the standard library.

The server drives one ``proxmo/WebShop-v0`` env (so the step limit, score and reward are the
agent's) and renders the current page's elements (:mod:`proxmo_bench.envs.webshop.site`) as
HTML: the same state the text observation shows. It binds to the loopback interface only.

Routes:
- ``GET /``: the current page; ``GET /state.json``: observation, info, reward and flags as JSON.
- ``POST /act`` with form field ``action`` (``search`` plus ``query``, or a full action string
  such as ``click[buy now]``): one env step, then a redirect to ``/``.
- ``POST /reset`` with optional ``task_id`` or ``seed``: a new episode.

    python -m proxmo_bench.envs.webshop.server --port 8000 [--split test]
"""

from __future__ import annotations

import argparse
import html
import ipaddress
import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import gymnasium

from proxmo_bench.envs.webshop.site import Element
from proxmo_bench.tasks import make

TASK_ID = "proxmo/WebShop-v0"
MAX_FORM_BYTES = 64 * 1024

_STYLE = """
body{font-family:sans-serif;max-width:60em;margin:1em auto;line-height:1.4}
.instruction{background:#eef;padding:.3em 1em}
form.inline{display:inline}
button{margin:.15em;padding:.3em .8em}
button.selected{background:#2a6;color:#fff}
.product{border:1px solid #ccc;border-radius:6px;padding:.5em;margin:.4em 0}
.status{color:#555;font-size:90%}
"""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ShopApp:
    """One env and the last step's result, behind a lock (the HTTP server is threaded)."""

    def __init__(self, env: gymnasium.Env[str, str], seed: int | None = None) -> None:
        self.env = env
        self.lock = threading.Lock()
        self.obs, self.info = env.reset(seed=seed)
        self.reward = 0.0
        self.terminated = self.truncated = False

    def reset(self, task_id: str | None = None, seed: int | None = None) -> None:
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


class _Handler(BaseHTTPRequestHandler):
    app: ShopApp

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep test and terminal output quiet

    def _send(self, status: HTTPStatus, body: str, content_type: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self) -> None:
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", "/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self.path == "/":
            self._send(HTTPStatus.OK, self.app.render_html(), "text/html")
        elif self.path == "/state.json":
            self._send(HTTPStatus.OK, json.dumps(self.app.state()), "application/json")
        else:
            self._send(HTTPStatus.NOT_FOUND, "not found", "text/plain")

    def _form(self) -> dict[str, str] | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_FORM_BYTES:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "form too large", "text/plain")
            return None
        fields = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        return {k: v[0] for k, v in fields.items()}

    def do_POST(self) -> None:
        form = self._form()
        if form is None:
            return
        if self.path == "/act":
            action = form.get("action", "")
            if action == "search":
                action = f"search[{form.get('query', '')}]"
            self.app.act(action)
        elif self.path == "/reset":
            seed = form.get("seed")
            try:
                self.app.reset(form.get("task_id") or None, int(seed) if seed else None)
            except ValueError as exc:
                self._send(HTTPStatus.BAD_REQUEST, str(exc), "text/plain")
                return
        else:
            self._send(HTTPStatus.NOT_FOUND, "not found", "text/plain")
            return
        self._redirect()


def make_server(
    host: str = "127.0.0.1", port: int = 8000, *, seed: int | None = None, **env_kwargs: Any
) -> ThreadingHTTPServer:
    """An HTTP server (not yet serving) for one WebShop env; ``port=0`` picks a free port.

    Raises:
        ValueError: ``host`` is not a loopback address (the shop is for this machine only).
    """
    if not _is_loopback(host):
        raise ValueError(f"the WebShop server binds to loopback only (127.0.0.1); got {host!r}")
    app = ShopApp(make(TASK_ID, **env_kwargs), seed=seed)
    handler = type("WebShopHandler", (_Handler,), {"app": app})
    return ThreadingHTTPServer((host, port), handler)


def serve(host: str = "127.0.0.1", port: int = 8000, **env_kwargs: Any) -> None:
    """Serve the shop at ``http://host:port/`` until interrupted (Ctrl-C)."""
    server = make_server(host, port, **env_kwargs)
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
