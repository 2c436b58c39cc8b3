"""The WebShop site as a state machine: pages, clickables and what each click does.

One :class:`ShopSession` is one shopper on the site, as upstream's ``SimServer`` session: the
search page, a results page (10 of the top-50 hits per page), an item page with its option groups,
the item's Description / Features / Reviews sub pages, and the done page after ``Buy Now``. A page
is a list of :class:`Element`\\ s; the text view (:func:`page_text`) joins their texts with
``" [SEP] "`` exactly as upstream's ``observation_mode="text"``, and the HTML view
(``server.py``) renders the same elements, so both show the same state.

Clickables are named by their lowercased text (buttons, product ASINs) or their option value, as
upstream's ``text_to_clickable``; ``search`` itself is the search button and cannot be clicked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from proxmo_bench.envs.webshop.catalogue import Catalogue
from proxmo_bench.envs.webshop.reward import Nouns, OptionRule, get_reward

PRODUCT_WINDOW = 10
BUY_NOW = "Buy Now"
NEXT_PAGE = "Next >"
PREV_PAGE = "< Prev"
BACK_TO_SEARCH = "Back to Search"
SUB_PAGES = ("Description", "Features", "Reviews")
SEARCH_ACTION_TEMPLATE = "search[<query>]"

PageName = Literal["search", "results", "item", "sub", "done"]
ElementKind = Literal["text", "instruction", "button", "product", "option", "search_bar", "title"]

#: What an action that is not ``name[argument]`` is told.
NOT_AN_ACTION = "Actions look like search[query] or click[button]."


@dataclass(frozen=True)
class Element:
    """One visible piece of a page. ``group`` is the option name of an option element."""

    kind: ElementKind
    text: str
    group: str = ""
    selected: bool = False


@dataclass(frozen=True)
class Page:
    name: PageName
    elements: tuple[Element, ...]

    def clickables(self) -> dict[str, Element]:
        """Clickable name -> element, as upstream's ``text_to_clickable`` (later ones win)."""
        out: dict[str, Element] = {}
        for e in self.elements:
            if e.kind in ("button", "product"):
                out[e.text.lower()] = e
            elif e.kind == "option":
                out[e.text] = e
        return out

    @property
    def has_search_bar(self) -> bool:
        return any(e.kind == "search_bar" for e in self.elements)


def page_text(page: Page, *, with_instruction: bool = True) -> str:
    """Upstream's simple text mode: the visible texts joined by ``" [SEP] "``.

    ``with_instruction=False`` leaves out the instruction (the anchor of a state).
    """
    return " [SEP] ".join(
        e.text
        for e in page.elements
        if e.kind != "search_bar" and (with_instruction or e.kind != "instruction")
    )


def bracket_action_end(action: str) -> int | None:
    r"""Where upstream's action pattern stops reading ``action``: the index after its last ``"]"``
    when ``re.match(r"(.+)\[(.+)\]", action, re.DOTALL)`` matches, else None. Linear time.

    The pattern's greedy groups make it match iff some ``"["`` after the first character is
    followed, at least one character later, by a ``"]"``; it then ends at the last ``"]"`` (text
    after it is ignored) and splits at the last such ``"["``. The regex itself backtracks in time
    quadratic in the length on strings such as ``"[" * n`` (37 s for 100 000 characters).
    """
    close = action.rfind("]")
    # the "[" must lie in action[1 : close - 1]; close < 3 leaves no room (and a negative end
    # would count from the right)
    if close < 3 or action.rfind("[", 1, close - 1) < 0:
        return None
    return close + 1


def parse_action(action: str) -> tuple[str, str | None]:
    r"""Upstream's ``parse_action`` (``re.match(r"(.+)\[(.+)\]")``: a name, "[", an argument, "]",
    read as a prefix), by :func:`bracket_action_end`'s scans: ``"click[Buy Now]"`` ->
    ``("click", "Buy Now")``; no such brackets -> ``(action, None)``."""
    end = bracket_action_end(action)
    if end is None:
        return action, None
    close = end - 1
    open_ = action.rfind("[", 1, close - 1)
    return action[:open_], action[open_ + 1 : close]


@dataclass
class StepOutcome:
    """What one action did: whether it was usable, and the purchase if it ended the episode."""

    valid: bool
    done: bool = False
    score: float = 0.0
    raw_score: float = 0.0
    reward_info: dict[str, Any] = field(default_factory=dict)
    message: str = ""


class ShopSession:
    """One shopper's state on the site for one goal."""

    def __init__(
        self,
        catalogue: Catalogue,
        goal: dict[str, Any],
        *,
        option_rule: OptionRule = "env-v1",
        nouns: Nouns = "heuristic",
        search_anywhere: bool = False,
    ) -> None:
        self.catalogue = catalogue
        self.goal = goal
        #: accept ``search[...]`` on every page, as upstream's text env does (its step searches
        #: whatever the page; only the search page lists the action)
        self.search_anywhere = search_anywhere
        self.option_rule: OptionRule = option_rule
        self.nouns: Nouns = nouns
        self.page_name: PageName = "search"
        self.keywords: list[str] = []
        self.results: list[str] = []
        self.page_num = 1
        self.asin: str | None = None
        self.options: dict[str, str] = {}
        self.sub_page = ""
        self.purchased: dict[str, Any] | None = None

    # ---- rendering ---------------------------------------------------------------------------
    def _instruction(self) -> list[Element]:
        return [
            Element("instruction", "Instruction:"),
            Element("instruction", self.goal["instruction_text"]),
        ]

    def page(self) -> Page:
        """The current page."""
        if self.page_name == "search":
            elements = [
                Element("title", "WebShop"),
                *self._instruction(),
                Element("search_bar", ""),
                Element("button", "Search"),
            ]
        elif self.page_name == "results":
            elements = self._results_elements()
        elif self.page_name == "item":
            elements = self._item_elements()
        elif self.page_name == "sub":
            elements = self._sub_elements()
        else:
            assert self.purchased is not None
            elements = [
                Element("title", "Thank you for shopping with us!"),
                Element("text", "Your score (min 0.0, max 1.0)"),
                Element("text", str(self.purchased["score"])),
            ]
        return Page(self.page_name, tuple(elements))

    def _results_elements(self) -> list[Element]:
        total = len(self.results)
        out = [
            *self._instruction(),
            Element("button", BACK_TO_SEARCH),
            Element("text", f"Page {self.page_num} (Total results: {total})"),
        ]
        if self.page_num > 1:
            out.append(Element("button", PREV_PAGE))
        if self.page_num * PRODUCT_WINDOW < total:
            out.append(Element("button", NEXT_PAGE))
        start = (self.page_num - 1) * PRODUCT_WINDOW
        for asin in self.results[start : start + PRODUCT_WINDOW]:
            product = self.catalogue.by_asin[asin]
            out += [
                Element("product", asin),
                Element("text", product["Title"]),
                Element("text", product["Price"]),
            ]
        return out

    def _product(self) -> dict[str, Any]:
        assert self.asin is not None
        return self.catalogue.by_asin[self.asin]

    def _item_elements(self) -> list[Element]:
        product = self._product()
        out = [
            *self._instruction(),
            Element("button", BACK_TO_SEARCH),
            Element("button", PREV_PAGE),
        ]
        for name, values in product["options"].items():
            out.append(Element("text", name))
            out += [
                Element("option", v, group=name, selected=self.options.get(name) == v)
                for v in values
            ]
        out += [
            Element("title", product["Title"]),
            Element("text", f"Price: {product['Price']}"),
            Element("text", f"Rating: {product['Rating']}"),
        ]
        out += [Element("button", s) for s in SUB_PAGES]
        out.append(Element("button", BUY_NOW))
        return out

    def _sub_elements(self) -> list[Element]:
        product = self._product()
        out = [
            *self._instruction(),
            Element("button", BACK_TO_SEARCH),
            Element("button", PREV_PAGE),
        ]
        if self.sub_page == "Description":
            out.append(Element("text", product["Description"] or "No Description"))
        elif self.sub_page == "Features":
            bullets = [b for b in product["BulletPoints"] if b.strip()]
            out += [Element("text", b.strip()) for b in bullets] or [Element("text", "No Features")]
        else:
            reviews = product["Reviews"]
            for r in reviews:
                out += [
                    Element("text", f'"{r.get("title", "")}"'),
                    Element("text", str(r.get("score", ""))),
                    Element("text", str(r.get("body", ""))),
                ]
            if not reviews:
                out.append(Element("text", "No reviews found"))
        return out

    # ---- actions -----------------------------------------------------------------------------
    def available_actions(self) -> list[str]:
        """``search[<query>]`` when the search bar is shown, then ``click[...]`` per clickable."""
        page = self.page()
        actions = [SEARCH_ACTION_TEMPLATE] if page.has_search_bar else []
        actions += [f"click[{name}]" for name in page.clickables() if name != "search"]
        return actions

    def act(self, action: str) -> StepOutcome:
        """Apply one action string; never raises. Unusable actions leave the state unchanged."""
        if self.page_name == "done":
            return StepOutcome(False, message="The purchase is complete; nothing more to do.")
        name, arg = parse_action(action.strip())
        name = name.strip().lower()
        if arg is None:
            return StepOutcome(False, message=NOT_AN_ACTION)
        arg = arg.strip().lower()
        page = self.page()
        if name == "search":
            if not page.has_search_bar and not self.search_anywhere:
                return StepOutcome(False, message="There is no search bar on this page.")
            if not arg.strip():
                return StepOutcome(False, message="The search query is empty.")
            self._search(arg.split(" "))
            return StepOutcome(True)
        if name != "click":
            return StepOutcome(False, message=NOT_AN_ACTION)
        clickables = page.clickables()
        if arg not in clickables or arg == "search":
            return StepOutcome(False, message=f"There is no clickable {arg[:60]!r} on this page.")
        return self._click(arg, clickables[arg])

    def _search(self, keywords: list[str], page_num: int = 1) -> None:
        self.keywords = keywords
        self.results = [p["asin"] for p in self.catalogue.search(" ".join(keywords))]
        self.page_num = page_num
        self.asin = None
        self.options = {}
        self.page_name = "results"

    def _click(self, name: str, element: Element) -> StepOutcome:
        if name == BUY_NOW.lower():
            return self._buy()
        if name == BACK_TO_SEARCH.lower():
            self.page_name, self.keywords, self.results = "search", [], []
            self.page_num, self.asin, self.options = 1, None, {}
        elif name == NEXT_PAGE.lower():
            self.page_num += 1
        elif name == PREV_PAGE.lower():
            if self.page_name == "results":
                self.page_num -= 1
            elif self.page_name == "sub":
                self.page_name = "item"
            else:  # item page -> its results page, as upstream re-runs the search
                self._search(self.keywords, self.page_num)
        elif name in (s.lower() for s in SUB_PAGES):
            self.sub_page = next(s for s in SUB_PAGES if s.lower() == name)
            self.page_name = "sub"
        elif element.kind == "product":
            self.asin = element.text
            self.page_name = "item"
        else:  # an option value
            self.options[element.group] = element.text
            self.page_name = "item"
        return StepOutcome(True)

    def _buy(self) -> StepOutcome:
        assert self.asin is not None
        product = self._product()
        raw, info = get_reward(
            product,
            self.goal,
            price=self.catalogue.prices[self.asin],
            options=dict(self.options),
            verbose=True,
            nouns=self.nouns,
            option_rule=self.option_rule,
        )
        score = min(1.0, float(raw))
        self.purchased = {"asin": self.asin, "options": dict(self.options), "score": score}
        self.page_name = "done"
        return StepOutcome(True, done=True, score=score, raw_score=float(raw), reward_info=info)
