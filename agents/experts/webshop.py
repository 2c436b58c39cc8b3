"""A scripted WebShop shopper: search the instruction, open the best match, pick options, buy.

It reads only what a player sees (the observation and ``info``), so its score is a fair ceiling for
agents with the same view:

1. search page: ``search[<instruction without its price clause>]``;
2. results page: open the product whose title shares the most words with the instruction, among
   those under the instruction's price bound (ties: the better search rank);
3. item page: for each option group, click the value whose words best cover the instruction's
   (at least half of the value's words), once per group;
4. then ``click[buy now]``.
"""

from __future__ import annotations

import re
from typing import Any

_SEP = " [SEP] "
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_PRICE_CLAUSE = re.compile(r",?\s*and price lower than ([0-9.]+) dollars", re.IGNORECASE)
_ASIN = re.compile(r"^[A-Z0-9]{10}$")
_PRICE = re.compile(r"\$([0-9][0-9,]*\.?[0-9]*)")
_NAV = {
    "back to search",
    "< prev",
    "next >",
    "description",
    "features",
    "reviews",
    "buy now",
    "search",
}
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "for",
        "with",
        "that",
        "is",
        "are",
        "i",
        "am",
        "im",
        "i'm",
        "looking",
        "need",
        "want",
        "to",
        "in",
        "on",
        "it",
        "this",
        "be",
        "by",
        "as",
        "at",
        "from",
    ]
)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _content_words(text: str) -> set[str]:
    return {w for w in _words(text) if w not in _STOP}


class WebShopExpert:
    """Scripted agent for ``proxmo/WebShop-v0``; implements ``proxmo_bench.agents.base.Agent``."""

    name = "webshop-expert"

    def __init__(self) -> None:
        self._instruction = ""
        self._clicked_groups: set[str] = set()
        self._opened = False

    @classmethod
    def for_env(cls, env: Any = None) -> WebShopExpert:
        """An expert for ``env`` (it reads only observations and infos, so any WebShop env)."""
        return cls()

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        self._instruction = str(info.get("instruction", ""))
        self._clicked_groups = set()
        self._opened = False

    def act(self, obs: str, info: dict[str, Any]) -> str:
        actions = [str(a) for a in (info.get("admissible_actions") or [])]
        page = info.get("page")
        if page == "search" or "search[<query>]" in actions:
            return f"search[{self._query()}]"
        if page == "results":
            return self._pick_result(obs, actions)
        if page == "item":
            return self._pick_option(obs, actions) or "click[buy now]"
        if "click[< prev]" in actions:  # a sub page: go back to the item
            return "click[< prev]"
        return actions[0] if actions else "click[buy now]"

    # ---- steps -------------------------------------------------------------------------------
    def _query(self) -> str:
        return _PRICE_CLAUSE.sub("", self._instruction).strip() or self._instruction

    def _price_bound(self) -> float:
        m = _PRICE_CLAUSE.search(self._instruction)
        return float(m.group(1)) if m else float("inf")

    def _pick_result(self, obs: str, actions: list[str]) -> str:
        parts = obs.split(_SEP)
        wanted = _content_words(self._query())
        bound = self._price_bound()
        best: tuple[float, int, str] | None = None
        for i, part in enumerate(parts):
            if not _ASIN.match(part) or f"click[{part.lower()}]" not in actions:
                continue
            title = parts[i + 1] if i + 1 < len(parts) else ""
            price_text = parts[i + 2] if i + 2 < len(parts) else ""
            m = _PRICE.search(price_text)
            price = float(m.group(1).replace(",", "")) if m else 0.0
            overlap = len(wanted & _content_words(title)) / max(1, len(wanted))
            key = (overlap + (1.0 if price <= bound else 0.0), -i, part)
            if best is None or key[:2] > best[:2]:
                best = key
        if best is None:
            return "click[back to search]" if "click[back to search]" in actions else actions[0]
        self._opened = True
        self._clicked_groups = set()
        return f"click[{best[2].lower()}]"

    def _option_groups(self, obs: str, values: set[str]) -> dict[str, list[str]]:
        parts = obs.split(_SEP)
        try:
            start = parts.index("< Prev") + 1
        except ValueError:
            return {}
        groups: dict[str, list[str]] = {}
        current: str | None = None
        for i in range(start, len(parts)):
            part = parts[i]
            if current is not None and part in values:
                groups[current].append(part)
            elif i + 1 < len(parts) and parts[i + 1] in values:
                current = part
                groups[current] = []
            else:
                break
        return groups

    def _pick_option(self, obs: str, actions: list[str]) -> str | None:
        values = {
            a[len("click[") : -1]
            for a in actions
            if a.startswith("click[") and a[len("click[") : -1] not in _NAV
        }
        wanted = set(_words(self._instruction))
        for group, options in self._option_groups(obs, values).items():
            if group in self._clicked_groups:
                continue
            self._clicked_groups.add(group)
            scored = []
            for value in options:
                tokens = _words(value)
                if tokens:
                    cover = sum(t in wanted for t in tokens) / len(tokens)
                    scored.append((cover, len(tokens), value))
            if scored:
                cover, _, value = max(scored)
                if cover >= 0.5:
                    return f"click[{value}]"
        return None
