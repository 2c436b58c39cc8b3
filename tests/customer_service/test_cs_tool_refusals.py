"""For every tool of retail and airline: arguments holding text that is not valid Unicode (lone
surrogates) or of the wrong type are refused before the tool runs: ``step`` never raises, the
action is invalid and the database (digest and full dump) is unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, get_args, get_origin, is_typeddict

import gymnasium
import pytest

import proxmo_bench
from proxmo_bench.envs.customer_service.episode import Episode
from proxmo_bench.envs.customer_service.tool_call import format_tool_call
from proxmo_bench.envs.customer_service.toolkit import ToolSpec, unencodable_text

from .helpers_cs import episode, unwrapped

SURROGATE = "\ud800"
TASKS = ("proxmo/Retail-v0", "proxmo/Airline-v0")


def _db_state(ep: Episode) -> tuple[str, str]:
    """The database's digest and a dump of every record this episode wrote (ASCII JSON)."""
    written = {
        name: {key: table.get(key) for key in sorted(table._overlay)}
        for name, table in ep.db.tables.items()
    }
    return ep.db.digest(), json.dumps(written, sort_keys=True)


def _full_dump(ep: Episode) -> str:
    """Every record of the database, the shared base included (slow: for a few checks)."""
    return json.dumps(ep.db.materialize(), sort_keys=True)


def _clean_calls(env: gymnasium.Env[str, str]) -> dict[str, tuple[str, list[str], dict[str, Any]]]:
    """Tool -> (task id, gold actions to play first, arguments of a call that succeeds there).

    Gold calls where the domain's tasks have one (the actions before it played first); the other
    tools get a call built from the task's customer in the database.
    """
    domain = unwrapped(env).domain
    calls: dict[str, tuple[str, list[str], dict[str, Any]]] = {}
    tasks = [t for split in domain.tasks.values() for t in split]
    for task in tasks:
        for i, action in enumerate(task.actions):
            if action.name not in calls:
                prefix = [format_tool_call(a.name, a.arguments) for a in task.actions[:i]]
                calls[action.name] = (task.task_id, prefix, dict(action.arguments))
    task = tasks[0]
    db = domain.db
    user = db["users"][task.user_id]
    extra: dict[str, dict[str, Any]] = {
        "calculate": {"expression": "(1 + 2) * 3"},
        "think": {"thought": "the customer wants a refund"},
        "transfer_to_human_agents": {"summary": "asks for a manager"},
        "get_user_details": {"user_id": task.user_id},
    }
    if domain.name == "retail":
        order = db["orders"][next(iter(db["orders"].keys()))]
        extra |= {
            "find_user_id_by_email": {"email": user["email"]},
            "find_user_id_by_name_zip": {**user["name"], "zip": user["address"]["zip"]},
            "get_product_details": {"product_id": order["items"][0]["product_id"]},
            "list_all_product_types": {},
        }
    else:
        res_id = next(k for k, r in db["reservations"].items() if r["user_id"] == task.user_id)
        res = db["reservations"][res_id]
        leg = res["flights"][0]
        where = {"origin": leg["origin"], "destination": leg["destination"], "date": leg["date"]}
        card = next(k for k, m in user["payment_methods"].items() if m["source"] != "certificate")
        extra |= {
            "list_all_airports": {},
            "search_direct_flight": where,
            "search_onestop_flight": where,
            "send_certificate": {"user_id": task.user_id, "amount": 50},
            "update_reservation_flights": {
                "reservation_id": res_id,
                "cabin": res["cabin"],
                "flights": [
                    {"flight_number": f["flight_number"], "date": f["date"]} for f in res["flights"]
                ],
                "payment_id": card,
            },
        }
    for name, arguments in extra.items():
        calls.setdefault(name, (task.task_id, [], arguments))
    return calls


def _string_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _string_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _string_paths(v, (*path, i))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    return [_replace(v, rest, new) if i == head else v for i, v in enumerate(value)]


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _wrong_value(ann: Any) -> Any:
    """A JSON value that does not fit ``ann``."""
    if ann is str:
        return 7
    if ann in (int, float):
        return "7"
    if ann is bool:
        return "yes"
    origin = get_origin(ann)
    if origin is list:
        (item,) = get_args(ann)
        return [_wrong_value(item)]
    if is_typeddict(ann) or origin is dict:
        return ["not", "an", "object"]
    return {"not": "a choice"}  # Literal / Union


def _surrogate_variants(arguments: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in _string_paths(arguments):
        yield f"surrogate in {path}", _replace(arguments, path, _get(arguments, path) + SURROGATE)
        yield f"lone surrogate as {path}", _replace(arguments, path, SURROGATE)
    yield "surrogate argument name", {**arguments, SURROGATE: "x"}
    for path in _string_paths(arguments):
        parent = _get(arguments, path[:-1])
        if isinstance(parent, dict):  # a surrogate key next to a string field
            yield (
                f"surrogate key beside {path}",
                _replace(arguments, path[:-1], {**parent, SURROGATE: 1}),
            )
            break


def _wrong_type_variants(
    spec: ToolSpec, arguments: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any]]]:
    for pname, ann in spec.params.items():
        yield f"wrong type for {pname}", {**arguments, pname: _wrong_value(ann)}
    for path in _string_paths(arguments):
        if len(path) > 1:  # a string nested in a list or object
            yield f"number for {path}", _replace(arguments, path, 7)


def _actions(name: str, arguments: dict[str, Any]) -> list[str]:
    """The call as a raw action (surrogates as characters) and as escaped JSON inside tags."""
    return [
        format_tool_call(name, arguments),
        "<action>" + json.dumps({"name": name, "arguments": arguments}) + "</action>",
    ]


@pytest.mark.parametrize("task", TASKS)
def test_every_tool_refuses_surrogates_and_wrong_types_and_changes_nothing(task: str) -> None:
    env = proxmo_bench.make(task)
    specs = unwrapped(env).domain.toolkit.specs()
    calls = _clean_calls(env)
    assert set(calls) == set(specs), f"no test call for {sorted(set(specs) - set(calls))}"
    env.reset(seed=0)
    base = _full_dump(episode(env))
    checked = 0
    for name, spec in specs.items():
        task_id, prefix, arguments = calls[name]

        def at_call() -> tuple[str, str]:
            env.reset(options={"task_id": task_id})  # noqa: B023 (the loop's own task)
            for a in prefix:  # noqa: B023
                _, _, _, _, info = env.step(a)
                assert info["action_valid"], a
            return _db_state(episode(env))

        at_call()
        _, _, _, _, info = env.step(format_tool_call(name, arguments))
        assert info["action_valid"], f"{name}: the clean call must succeed ({arguments})"
        variants = [*_surrogate_variants(arguments), *_wrong_type_variants(spec, arguments)]
        assert variants, name
        for why, bad in variants:
            for action in _actions(name, bad):
                before = at_call()
                try:
                    obs, reward, terminated, _, info = env.step(action)
                except Exception as exc:  # the contract under test
                    raise AssertionError(f"{name} ({why}) raised {exc!r}") from exc
                assert info["action_valid"] is False, f"{name} ({why}) was not refused: {obs:.200}"
                assert not terminated and reward == 0.0, f"{name} ({why})"
                assert obs.startswith(f"Tool {name} returned: Error: "), obs
                assert _db_state(episode(env)) == before, f"{name} ({why}) changed the database"
                obs.encode("utf-8")  # the refusal itself is valid text
                checked += 1
        if spec.writes:
            assert any("surrogate" in why for why, _ in variants), name
    assert checked > 4 * len(specs)
    env.reset(seed=0)
    assert _full_dump(episode(env)) == base, "a refused call changed the shared base data"


def test_refusal_names_the_argument_and_position() -> None:
    env = proxmo_bench.make("proxmo/Retail-v0")
    name, (task_id, prefix, arguments) = (
        "modify_user_address",
        _clean_calls(env)["modify_user_address"],
    )
    env.reset(options={"task_id": task_id})
    for a in prefix:
        env.step(a)
    obs, *_ = env.step(format_tool_call(name, {**arguments, "city": "Ber" + SURROGATE + "lin"}))
    assert "argument 'city'" in obs and "not valid Unicode" in obs and "character 3" in obs


def test_unencodable_text_walks_any_depth_and_keys() -> None:
    deep: Any = "ok"
    for _ in range(50_000):  # far deeper than Python's recursion limit
        deep = [deep]
    assert unencodable_text(deep, "x") is None
    deep_bad: Any = SURROGATE
    for _ in range(50_000):
        deep_bad = {"k": deep_bad}
    assert "not valid Unicode" in str(unencodable_text(deep_bad, "x"))
    assert "['a'][1]" in str(unencodable_text({"a": ["fine", "b" + SURROGATE]}, "x"))
    assert unencodable_text({SURROGATE: 1}, "x") is not None
    assert unencodable_text({"a": 1, "b": [1.5, None, True, "é🤖"]}, "x") is None
