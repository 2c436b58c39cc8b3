"""Our own retail world: users, products, orders and templated tasks, generated from a seed.

The records have the same shape as tau-bench's (so the same tools run on them) and the task
instructions follow the template of tau-bench's retail train split ("Your name is ... You are ...
<requests>"), so the scripted customer handles every generated task. Each task's gold actions are
replayed once at generation time and a task is kept only if every gold call succeeds.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from importlib import resources
from typing import Any

import numpy as np

from proxmo_bench.envs.customer_service.database import Database
from proxmo_bench.envs.customer_service.domain import Domain
from proxmo_bench.envs.customer_service.domains.retail.tools import RetailTools
from proxmo_bench.envs.customer_service.task import GoldAction, Task

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "n_users": 200,
    "n_tasks": {"train": 300, "dev": 20, "test": 100},
}

#: Product types and their option values (our own catalogue).
CATALOGUE: dict[str, dict[str, list[str]]] = {
    "Desk Lamp": {"color": ["black", "white", "brass"], "brightness": ["low", "medium", "high"]},
    "Running Shoes": {"size": ["7", "8", "9", "10", "11"], "color": ["red", "blue", "grey"]},
    "Coffee Grinder": {"type": ["burr", "blade"], "capacity": ["100g", "250g"]},
    "Rain Jacket": {"size": ["S", "M", "L", "XL"], "color": ["yellow", "navy", "green"]},
    "Headphones": {
        "type": ["over-ear", "in-ear"],
        "connectivity": ["wired", "wireless"],
        "color": ["black", "silver"],
    },
    "Backpack": {"capacity": ["20L", "30L", "40L"], "material": ["nylon", "canvas"]},
    "Tea Set": {"material": ["ceramic", "glass", "cast iron"], "pieces": ["4", "6"]},
    "Yoga Mat": {"thickness": ["4mm", "6mm", "8mm"], "color": ["purple", "teal", "black"]},
    "Board Game": {"edition": ["classic", "deluxe"], "language": ["English", "Spanish"]},
    "Water Filter": {"capacity": ["1L", "2L", "3L"], "filter": ["carbon", "ceramic"]},
    "Camping Stove": {"fuel": ["gas", "wood"], "burners": ["1", "2"]},
    "Wall Clock": {
        "style": ["modern", "vintage"],
        "diameter": ["25cm", "35cm"],
        "color": ["black", "white"],
    },
}
BASE_PRICE = {name: 20.0 + 15.0 * i for i, name in enumerate(CATALOGUE)}

FIRST_NAMES = (
    "Ada",
    "Bruno",
    "Chiara",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Lars",
    "Maya",
    "Nikhil",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zofia",
)
LAST_NAMES = (
    "Abara",
    "Berg",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fontaine",
    "Gupta",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Laine",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Perez",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Urbina",
    "Varga",
    "Weber",
    "Yilmaz",
)
STREETS = ("Oak Street", "Maple Avenue", "Harbor Road", "Hill Lane", "River Drive", "Elm Court")
CITIES = (
    ("Portland", "OR", "97"),
    ("Austin", "TX", "78"),
    ("Denver", "CO", "80"),
    ("Chicago", "IL", "60"),
    ("Boston", "MA", "02"),
    ("Seattle", "WA", "98"),
)
TRAITS = ("polite", "patient", "direct", "curious", "busy", "cheerful", "cautious", "organized")
STATUSES = ("pending", "pending", "processed", "delivered", "delivered", "cancelled")


def generate(config: tuple[tuple[str, Any], ...] = ()) -> Domain:
    """The generated retail domain for ``config`` (``seed``, ``n_users``, ``n_tasks``);
    the same config gives the same domain on every machine."""
    params = {**DEFAULTS, **dict(config)}
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise ValueError(
            f"unknown retail generator parameters {sorted(unknown)}; known: {sorted(DEFAULTS)}"
        )
    n_tasks = params["n_tasks"]
    if isinstance(n_tasks, dict):
        n_tasks = tuple(sorted(n_tasks.items()))
    return _generate(int(params["seed"]), int(params["n_users"]), tuple(n_tasks))


@functools.lru_cache(maxsize=8)
def _generate(seed: int, n_users: int, n_tasks: tuple[tuple[str, int], ...]) -> Domain:
    if n_users < 1:
        raise ValueError(f"n_users must be >= 1, got {n_users}")
    rng = np.random.default_rng(seed)
    products = _products(rng)
    users, orders = _users_and_orders(rng, n_users, products)
    tables: dict[str, dict[str, Any]] = {"users": users, "orders": orders, "products": products}
    base_id = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()
    db = Database(tables, base_id)
    tasks: dict[str, list[Task]] = {}
    task_rng = np.random.default_rng([seed, 1])
    for split, n in n_tasks:
        tasks[split] = []
        while len(tasks[split]) < int(n):
            task = _task(task_rng, db, f"{split}/{len(tasks[split])}")
            if task is not None:
                tasks[split].append(task)
    policy = resources.files(__package__).joinpath("policy.md").read_text(encoding="utf-8")
    source = f"generated(seed={seed}, n_users={n_users})"
    return Domain("retail", RetailTools, db, policy, tasks, source)


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, size=n))


def _products(rng: np.random.Generator) -> dict[str, Any]:
    products: dict[str, Any] = {}
    for name, options in CATALOGUE.items():
        product_id = _digits(rng, 10)
        variants: dict[str, Any] = {}
        for combo in itertools.product(*options.values()):
            item_id = _digits(rng, 10)
            price = round(BASE_PRICE[name] * float(rng.uniform(0.8, 1.3)), 2)
            variants[item_id] = {
                "item_id": item_id,
                "options": dict(zip(options, combo, strict=True)),
                "available": bool(rng.random() < 0.85),
                "price": price,
            }
        products[product_id] = {"name": name, "product_id": product_id, "variants": variants}
    return products


def _address(rng: np.random.Generator) -> dict[str, str]:
    city, state, zip_prefix = CITIES[int(rng.integers(len(CITIES)))]
    return {
        "address1": f"{int(rng.integers(1, 999))} {STREETS[int(rng.integers(len(STREETS)))]}",
        "address2": f"Suite {int(rng.integers(100, 999))}",
        "city": city,
        "country": "USA",
        "state": state,
        "zip": zip_prefix + _digits(rng, 3),
    }


def _users_and_orders(
    rng: np.random.Generator, n_users: int, products: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    users: dict[str, Any] = {}
    orders: dict[str, Any] = {}
    product_list = list(products.values())
    while len(users) < n_users:
        first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        user_id = f"{first.lower()}_{last.lower()}_{_digits(rng, 4)}"
        if user_id in users:
            continue
        methods: dict[str, Any] = {}
        for source in ("credit_card", "paypal", "gift_card"):
            if source != "credit_card" and rng.random() < 0.5:
                continue
            pm_id = f"{source}_{_digits(rng, 7)}"
            method: dict[str, Any] = {"source": source, "id": pm_id}
            if source == "credit_card":
                method["brand"] = ("visa", "mastercard")[int(rng.integers(2))]
                method["last_four"] = _digits(rng, 4)
            elif source == "gift_card":
                method["balance"] = round(float(rng.uniform(0, 300)), 2)
            methods[pm_id] = method
        address = _address(rng)
        user_orders: list[str] = []
        for _ in range(int(rng.integers(1, 5))):
            order_id = "#W" + _digits(rng, 7)
            if order_id in orders:
                continue
            items = []
            for _ in range(int(rng.integers(1, 4))):
                product = product_list[int(rng.integers(len(product_list)))]
                variant = list(product["variants"].values())[
                    int(rng.integers(len(product["variants"])))
                ]
                items.append(
                    {
                        "name": product["name"],
                        "product_id": product["product_id"],
                        "item_id": variant["item_id"],
                        "price": variant["price"],
                        "options": dict(variant["options"]),
                    }
                )
            status = STATUSES[int(rng.integers(len(STATUSES)))]
            pm_id = list(methods)[int(rng.integers(len(methods)))]
            amount = round(sum(i["price"] for i in items), 2)
            history = [
                {"transaction_type": "payment", "amount": amount, "payment_method_id": pm_id}
            ]
            if status == "cancelled":
                history.append(
                    {"transaction_type": "refund", "amount": amount, "payment_method_id": pm_id}
                )
            fulfillments = []
            if status in ("processed", "delivered"):
                fulfillments = [
                    {"tracking_id": [_digits(rng, 12)], "item_ids": [i["item_id"] for i in items]}
                ]
            orders[order_id] = {
                "order_id": order_id,
                "user_id": user_id,
                "address": dict(address),
                "items": items,
                "fulfillments": fulfillments,
                "status": status,
                "payment_history": history,
            }
            user_orders.append(order_id)
        users[user_id] = {
            "name": {"first_name": first, "last_name": last},
            "address": address,
            "email": f"{first.lower()}.{last.lower()}{_digits(rng, 4)}@example.com",
            "payment_methods": methods,
            "orders": user_orders,
        }
    return users, orders


# ---- tasks -----------------------------------------------------------------------------------


def _task(rng: np.random.Generator, db: Database, task_id: str) -> Task | None:
    """One templated task with 1-2 requests of a random user, or None if none fits."""
    users = db["users"]
    user_ids = list(users.keys())
    user_id = user_ids[int(rng.integers(len(user_ids)))]
    user = users[user_id]
    n_requests = 1 if rng.random() < 0.7 else 2
    order_ids = [o for o in user["orders"]]
    rng.shuffle(order_ids)
    requests: list[str] = []
    actions: list[GoldAction] = []
    outputs: list[str] = []
    kinds = [
        "cancel",
        "return",
        "exchange",
        "modify_items",
        "order_address",
        "payment",
        "user_address",
        "total",
    ]
    for order_id in order_ids:
        if len(requests) >= n_requests:
            break
        kind = kinds[int(rng.integers(len(kinds)))]
        made = _request(rng, db, user_id, str(order_id), kind)
        if made is not None:
            requests.append(made[0])
            actions.extend(made[1])
            outputs.extend(made[2])
    if not requests:
        return None
    scratch = db.fresh()
    kit = RetailTools(scratch)
    for action in actions:
        if not kit.invoke(action.name, action.arguments)[1]:
            return None  # e.g. two requests that conflict; draw another task
    full_name = f"{user['name']['first_name']} {user['name']['last_name']}"
    if rng.random() < 0.5:
        ident = f"Your name is {full_name} and your zip code is {user['address']['zip']}."
    else:
        ident = f"Your name is {full_name} and your email is {user['email']}."
    traits = sorted({TRAITS[int(i)] for i in rng.integers(len(TRAITS), size=2)})
    instruction = f"{ident} You are {', '.join(traits)}. " + " ".join(requests) + " "
    writing = {n for n, s in RetailTools.specs().items() if s.writes}
    category = next((a.name for a in actions if a.name in writing), "lookup")
    return Task(
        task_id, user_id, instruction, tuple(actions), tuple(outputs), category, "generated"
    )


def _address_text(addr: dict[str, str]) -> str:
    keys = ("address1", "address2", "city", "state", "country", "zip")
    return ", ".join(addr[k] for k in keys)


def _opts(options: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{k}': '{v}'" for k, v in options.items()) + "}"


def _request(
    rng: np.random.Generator, db: Database, user_id: str, order_id: str, kind: str
) -> tuple[str, list[GoldAction], list[str]] | None:
    order = db["orders"][order_id]
    user = db["users"][user_id]
    methods = list(user["payment_methods"])
    status = order["status"]
    if kind == "cancel" and status == "pending":
        reason = ("no longer needed", "ordered by mistake")[int(rng.integers(2))]
        return (
            f"Cancel order {order_id} because {reason}.",
            [GoldAction("cancel_pending_order", {"order_id": order_id, "reason": reason})],
            [],
        )
    if kind == "return" and status == "delivered":
        original = order["payment_history"][0]["payment_method_id"]
        refund_to = [m for m in methods if m == original or m.startswith("gift_card")]
        pm = refund_to[int(rng.integers(len(refund_to)))]
        items = order["items"][: int(rng.integers(1, len(order["items"]) + 1))]
        names = "; ".join(i["name"] for i in items) + ";"
        return (
            f"Return {order_id} via {pm}: {names}",
            [
                GoldAction(
                    "return_delivered_order_items",
                    {
                        "order_id": order_id,
                        "item_ids": [i["item_id"] for i in items],
                        "payment_method_id": pm,
                    },
                )
            ],
            [],
        )
    if kind in ("exchange", "modify_items") and status == (
        "delivered" if kind == "exchange" else "pending"
    ):
        item = order["items"][int(rng.integers(len(order["items"])))]
        product = db["products"][item["product_id"]]
        choices = [
            v
            for v in product["variants"].values()
            if v["available"] and v["item_id"] != item["item_id"]
        ]
        if not choices:
            return None
        new = choices[int(rng.integers(len(choices)))]
        changed = {k: v for k, v in new["options"].items() if item["options"].get(k) != v}
        pm = methods[int(rng.integers(len(methods)))]
        verb = "exchange" if kind == "exchange" else "modify"
        tool_name = (
            "exchange_delivered_order_items" if kind == "exchange" else "modify_pending_order_items"
        )
        return (
            f"For {order_id}, {verb} {item['name']} {_opts(item['options'])} "
            f"to {_opts(changed)}; via {pm}.",
            [
                GoldAction(
                    tool_name,
                    {
                        "order_id": order_id,
                        "item_ids": [item["item_id"]],
                        "new_item_ids": [new["item_id"]],
                        "payment_method_id": pm,
                    },
                )
            ],
            [],
        )
    if kind == "order_address" and status == "pending":
        addr = _address(rng)
        return (
            f"For {order_id}, change the shipping address to {_address_text(addr)}.",
            [GoldAction("modify_pending_order_address", {"order_id": order_id, **addr})],
            [],
        )
    if kind == "payment" and status == "pending" and len(order["payment_history"]) == 1:
        current = order["payment_history"][0]["payment_method_id"]
        amount = order["payment_history"][0]["amount"]
        balance = {m: user["payment_methods"][m].get("balance", 0.0) for m in methods}
        options = [
            m for m in methods if m != current and (m[:9] != "gift_card" or balance[m] >= amount)
        ]
        if not options:
            return None
        pm = options[int(rng.integers(len(options)))]
        return (
            f"For {order_id}, change the payment method to {pm}.",
            [
                GoldAction(
                    "modify_pending_order_payment", {"order_id": order_id, "payment_method_id": pm}
                )
            ],
            [],
        )
    if kind == "user_address":
        addr = _address(rng)
        return (
            f"Change your default address to {_address_text(addr)}.",
            [GoldAction("modify_user_address", {"user_id": user_id, **addr})],
            [],
        )
    if kind == "total":
        amount = order["payment_history"][0]["amount"]
        return (
            f"Ask how much you paid for order {order_id}.",
            [GoldAction("get_order_details", {"order_id": order_id})],
            [f"{amount}"],
        )
    return None
