from __future__ import annotations

from typing import Any, Literal, TypedDict

from proxmo_bench.envs.customer_service.database import Database
from proxmo_bench.envs.customer_service.domains.airline.tools import AirlineTools
from proxmo_bench.envs.customer_service.domains.retail.tools import RetailTools
from proxmo_bench.envs.customer_service.tool_call import Message, ToolCall, parse_action
from proxmo_bench.envs.customer_service.toolkit import ToolError, ToolKit, tool

RETAIL_TOOLS = {
    "calculate", "cancel_pending_order", "exchange_delivered_order_items",
    "find_user_id_by_email", "find_user_id_by_name_zip", "get_order_details",
    "get_product_details", "get_user_details", "list_all_product_types",
    "modify_pending_order_address", "modify_pending_order_items", "modify_pending_order_payment",
    "modify_user_address", "return_delivered_order_items", "think", "transfer_to_human_agents",
}  # fmt: skip
AIRLINE_TOOLS = {
    "book_reservation", "calculate", "cancel_reservation", "get_reservation_details",
    "get_user_details", "list_all_airports", "search_direct_flight", "search_onestop_flight",
    "send_certificate", "think", "transfer_to_human_agents", "update_reservation_baggages",
    "update_reservation_flights", "update_reservation_passengers",
}  # fmt: skip


class Item(TypedDict):
    sku: str
    qty: int


class Toy(ToolKit):
    @tool(writes=True)
    def add(self, key: str, items: list[Item], mode: Literal["a", "b"] = "a") -> str:
        """Add a record, then fail if asked to.

        Args:
            key: record id.
            items: the items.
            mode: 'b' fails after writing.
        """
        self.db["t"].insert(key, {"items": items})
        self.db["t"].edit("k0")["n"] = 99
        if mode == "b":
            raise ToolError("refused after writing")
        return "ok"

    @tool()
    def crash(self, x: float) -> str:
        """Divide by zero.

        Args:
            x: a number.
        """
        return str(x / 0)


def _toy() -> Toy:
    return Toy(Database({"t": {"k0": {"n": 0}}}, "toy").fresh())


def test_domains_have_the_upstream_tool_sets() -> None:
    assert set(RetailTools.specs()) == RETAIL_TOOLS and len(RETAIL_TOOLS) == 16
    assert set(AirlineTools.specs()) == AIRLINE_TOOLS and len(AIRLINE_TOOLS) == 14
    for kit in (RetailTools, AirlineTools):
        terminal = [n for n, s in kit.specs().items() if s.terminal]
        assert terminal == ["transfer_to_human_agents"]


def test_schema_comes_from_signature_and_docstring() -> None:
    (schema,) = Toy.schemas()[:1]
    fn = schema["function"]
    assert fn["name"] == "add" and fn["description"].startswith("Add a record")
    params = fn["parameters"]
    assert params["required"] == ["key", "items"]
    assert params["properties"]["mode"]["enum"] == ["a", "b"]
    assert params["properties"]["items"]["items"]["required"] == ["qty", "sku"]
    assert params["properties"]["key"]["description"] == "record id."
    cancel = next(
        s for s in RetailTools.schemas() if s["function"]["name"] == "cancel_pending_order"
    )
    reason = cancel["function"]["parameters"]["properties"]["reason"]
    assert reason["enum"] == ["no longer needed", "ordered by mistake"]


def test_bad_arguments_are_errors_and_leave_the_database_unchanged() -> None:
    kit = _toy()
    before = kit.db.digest()
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "nope": ({}, "unknown tool"),
        "add": ({"items": []}, "missing required argument 'key'"),
    }
    for name, (args, expected) in cases.items():
        out, ok = kit.invoke(name, args)
        assert not ok and out.startswith("Error:") and expected in out
    bad: list[tuple[dict[str, Any], str]] = [
        ({"key": 1, "items": []}, "must be a string"),
        ({"key": "k", "items": [{"sku": "x"}]}, "missing the key 'qty'"),
        ({"key": "k", "items": [{"sku": "x", "qty": True}]}, "must be an integer"),
        ({"key": "k", "items": [], "mode": "c"}, "one of 'a', 'b'"),
        ({"key": "k", "items": [], "extra": 1}, "unknown argument 'extra'"),
    ]
    for args, expected in bad:
        out, ok = kit.invoke("add", args)
        assert not ok and expected in out, out
    out, ok = kit.invoke("add", "not a dict")
    assert not ok and "must be an object" in out
    assert kit.db.digest() == before


def test_a_failing_write_is_rolled_back() -> None:
    kit = _toy()
    before = kit.db.digest()
    out, ok = kit.invoke("add", {"key": "k1", "items": [], "mode": "b"})
    assert (out, ok) == ("Error: refused after writing", False)
    assert kit.db.digest() == before and "k1" not in kit.db["t"]
    out, ok = kit.invoke("crash", {"x": 1})
    assert not ok and "ZeroDivisionError" in out
    assert kit.invoke("add", {"key": "k1", "items": [{"sku": "s", "qty": 2}]}) == ("ok", True)
    assert kit.db.digest() != before


def test_parse_action() -> None:
    call = parse_action('{"name": "think", "arguments": {"thought": "x"}}')
    assert call == ToolCall("think", {"thought": "x"})
    wrapped = parse_action('<think>plan</think><action>{"name": "think", "arguments": {}}</action>')
    assert isinstance(wrapped, ToolCall) and wrapped.name == "think" and wrapped.problem is None
    assert parse_action("<action>Hello there</action>") == Message("Hello there")
    assert parse_action("{not json") == Message("{not json")
    assert parse_action('{"foo": 1}') == Message('{"foo": 1}')
    bad = parse_action('{"name": 1}')
    assert isinstance(bad, ToolCall) and bad.problem and "string" in bad.problem
    bad_args = parse_action('{"name": "think", "arguments": "x"}')
    assert isinstance(bad_args, ToolCall) and bad_args.problem
