"""Our own airline world: flights, users, reservations and templated tasks, generated from a seed.

Records have tau-bench's airline shape, so the same tools run on them. Instructions start with
"Your user id is ...", followed by one request per sentence, which the scripted customer reads.
Each task's gold actions are replayed at generation time; a task is kept only if every gold call
succeeds.
"""

from __future__ import annotations

import functools
import hashlib
import json
import string
from importlib import resources
from typing import Any

import numpy as np

from proxmo_bench.envs.customer_service.database import Database
from proxmo_bench.envs.customer_service.domain import Domain
from proxmo_bench.envs.customer_service.domains.airline.tools import AIRPORTS, AirlineTools
from proxmo_bench.envs.customer_service.task import GoldAction, Task

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "n_users": 150,
    "n_flights": 120,
    "n_tasks": {"test": 100},
}
CABINS = ("basic_economy", "economy", "business")
CABIN_PRICE = {"basic_economy": (50, 100), "economy": (100, 200), "business": (300, 600)}
DAYS = [f"2024-05-{d:02d}" for d in range(1, 31)]
TODAY = "2024-05-15"
FIRST_NAMES = (
    "Amir",
    "Bea",
    "Carlos",
    "Dana",
    "Emeka",
    "Freya",
    "Goran",
    "Hana",
    "Ivo",
    "Jia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Rui",
    "Sofia",
    "Tomas",
    "Yara",
)
LAST_NAMES = (
    "Aalto",
    "Brandt",
    "Chen",
    "Diaz",
    "Ekstrom",
    "Falk",
    "Garcia",
    "Holm",
    "Ito",
    "Jovanovic",
    "Khan",
    "Lopez",
    "Mendes",
    "Novak",
    "Osei",
    "Park",
    "Reyes",
    "Sato",
)


def generate(config: tuple[tuple[str, Any], ...] = ()) -> Domain:
    """The generated airline domain for ``config`` (``seed``, ``n_users``, ``n_flights``,
    ``n_tasks``); the same config gives the same domain on every machine."""
    params = {**DEFAULTS, **dict(config)}
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise ValueError(
            f"unknown airline generator parameters {sorted(unknown)}; known: {sorted(DEFAULTS)}"
        )
    n_tasks = params["n_tasks"]
    if isinstance(n_tasks, dict):
        n_tasks = tuple(sorted(n_tasks.items()))
    return _generate(
        int(params["seed"]), int(params["n_users"]), int(params["n_flights"]), tuple(n_tasks)
    )


@functools.lru_cache(maxsize=8)
def _generate(
    seed: int, n_users: int, n_flights: int, n_tasks: tuple[tuple[str, int], ...]
) -> Domain:
    if n_users < 1 or n_flights < 1:
        raise ValueError("n_users and n_flights must be >= 1")
    rng = np.random.default_rng(seed)
    flights = _flights(rng, n_flights)
    users, reservations = _users_and_reservations(rng, n_users, flights)
    tables: dict[str, dict[str, Any]] = {
        "flights": flights,
        "reservations": reservations,
        "users": users,
    }
    base_id = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()
    db = Database(tables, base_id)
    tasks: dict[str, list[Task]] = {}
    task_rng = np.random.default_rng([seed, 1])
    for split, n in n_tasks:
        tasks[split] = []
        attempts = 0
        while len(tasks[split]) < int(n):
            attempts += 1
            if attempts > 100 * int(n) + 100:
                raise RuntimeError(
                    "airline generator: could not build enough tasks; raise n_flights"
                )
            task = _task(task_rng, db, f"{split}/{len(tasks[split])}")
            if task is not None:
                tasks[split].append(task)
    policy = resources.files(__package__).joinpath("policy.md").read_text(encoding="utf-8")
    source = f"generated(seed={seed}, n_users={n_users}, n_flights={n_flights})"
    return Domain("airline", AirlineTools, db, policy, tasks, source)


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, size=n))


def _flights(rng: np.random.Generator, n_flights: int) -> dict[str, Any]:
    airports = list(AIRPORTS)
    flights: dict[str, Any] = {}
    for i in range(n_flights):
        origin, destination = (str(a) for a in rng.choice(airports, size=2, replace=False))
        dep_hour = int(rng.integers(5, 21))
        duration = int(rng.integers(1, 6))
        arr_hour = dep_hour + duration
        arrival = f"{arr_hour % 24:02d}:00:00" + ("+1" if arr_hour >= 24 else "")
        dates: dict[str, Any] = {}
        for day in DAYS:
            if day < TODAY:
                dates[day] = {"status": "landed"}
            elif rng.random() < 0.05:
                dates[day] = {"status": "cancelled"}
            else:
                dates[day] = {
                    "status": "available",
                    "available_seats": {c: int(rng.integers(0, 20)) for c in CABINS},
                    "prices": {c: int(rng.integers(*CABIN_PRICE[c])) for c in CABINS},
                }
        number = f"HAT{i + 1:03d}"
        flights[number] = {
            "flight_number": number,
            "origin": origin,
            "destination": destination,
            "scheduled_departure_time_est": f"{dep_hour:02d}:00:00",
            "scheduled_arrival_time_est": arrival,
            "dates": dates,
        }
    return flights


def _person(rng: np.random.Generator) -> dict[str, str]:
    year, month, day = (int(rng.integers(a, b)) for a, b in ((1950, 2005), (1, 13), (1, 29)))
    return {
        "first_name": FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))],
        "last_name": LAST_NAMES[int(rng.integers(len(LAST_NAMES)))],
        "dob": f"{year}-{month:02d}-{day:02d}",
    }


def _users_and_reservations(
    rng: np.random.Generator, n_users: int, flights: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    users: dict[str, Any] = {}
    reservations: dict[str, Any] = {}
    bookable = [
        (f, d)
        for f in flights.values()
        for d, day in f["dates"].items()
        if day["status"] == "available"
    ]
    while len(users) < n_users:
        me = _person(rng)
        user_id = f"{me['first_name'].lower()}_{me['last_name'].lower()}_{_digits(rng, 4)}"
        if user_id in users:
            continue
        methods: dict[str, Any] = {}
        card = f"credit_card_{_digits(rng, 7)}"
        methods[card] = {
            "source": "credit_card",
            "brand": "visa",
            "last_four": _digits(rng, 4),
            "id": card,
        }
        if rng.random() < 0.5:
            gift = f"gift_card_{_digits(rng, 7)}"
            methods[gift] = {"source": "gift_card", "amount": int(rng.integers(0, 400)), "id": gift}
        if rng.random() < 0.3:
            cert = f"certificate_{_digits(rng, 7)}"
            methods[cert] = {
                "source": "certificate",
                "amount": int(rng.choice([100, 150, 250])),
                "id": cert,
            }
        user_res: list[str] = []
        for _ in range(int(rng.integers(1, 4))):
            flight, day = bookable[int(rng.integers(len(bookable)))]
            cabin = CABINS[int(rng.integers(len(CABINS)))]
            res_id = "".join(
                rng.choice(list(string.ascii_uppercase + string.digits), size=6).tolist()
            )
            if res_id in reservations:
                continue
            passengers = [{k: me[k] for k in ("first_name", "last_name", "dob")}]
            passengers += [_person(rng) for _ in range(int(rng.integers(0, 3)))]
            price = flight["dates"][day]["prices"][cabin]
            bags = int(rng.integers(0, 3))
            insurance = "yes" if rng.random() < 0.3 else "no"
            total = price * len(passengers) + (30 * len(passengers) if insurance == "yes" else 0)
            reservations[res_id] = {
                "reservation_id": res_id,
                "user_id": user_id,
                "origin": flight["origin"],
                "destination": flight["destination"],
                "flight_type": "one_way",
                "cabin": cabin,
                "flights": [
                    {
                        "origin": flight["origin"],
                        "destination": flight["destination"],
                        "flight_number": flight["flight_number"],
                        "date": day,
                        "price": price,
                    }
                ],
                "passengers": passengers,
                "payment_history": [{"payment_id": card, "amount": total}],
                "created_at": f"2024-05-{int(rng.integers(1, 15)):02d}T10:00:00",
                "total_baggages": bags,
                "nonfree_baggages": 0,
                "insurance": insurance,
            }
            user_res.append(res_id)
        users[user_id] = {
            "name": {"first_name": me["first_name"], "last_name": me["last_name"]},
            "address": {
                "address1": f"{int(rng.integers(1, 999))} Main Street",
                "address2": "",
                "city": "Springfield",
                "country": "USA",
                "state": "IL",
                "zip": _digits(rng, 5),
            },
            "email": f"{user_id.rsplit('_', 1)[0].replace('_', '.')}{_digits(rng, 4)}@example.com",
            "dob": me["dob"],
            "payment_methods": methods,
            "saved_passengers": [_person(rng)],
            "membership": ("regular", "silver", "gold")[int(rng.integers(3))],
            "reservations": user_res,
        }
    return users, reservations


# ---- tasks -----------------------------------------------------------------------------------


def _card(user: dict[str, Any]) -> str:
    return next(k for k, m in user["payment_methods"].items() if m["source"] == "credit_card")


def _task(rng: np.random.Generator, db: Database, task_id: str) -> Task | None:
    users = list(db["users"].keys())
    user_id = users[int(rng.integers(len(users)))]
    user = db["users"][user_id]
    kind = ("cancel", "bags", "book", "passenger", "total")[int(rng.integers(5))]
    made = _request(rng, db, user_id, user, kind)
    if made is None:
        return None
    request, actions, outputs = made
    kit = AirlineTools(db.fresh())
    for action in actions:
        if not kit.invoke(action.name, action.arguments)[1]:
            return None
    instruction = f"Your user id is {user_id}. {request}"
    category = actions[0].name if kind != "total" else "lookup"
    return Task(
        task_id, user_id, instruction, tuple(actions), tuple(outputs), category, "generated"
    )


def _request(
    rng: np.random.Generator, db: Database, user_id: str, user: dict[str, Any], kind: str
) -> tuple[str, list[GoldAction], list[str]] | None:
    res_ids = [r for r in user["reservations"] if db["reservations"].get(r)]
    res_id = res_ids[int(rng.integers(len(res_ids)))] if res_ids else None
    card = _card(user)
    if kind == "cancel" and res_id:
        return (
            f"You want to cancel reservation {res_id} because your plans changed. "
            "You want the refund on the original payment method.",
            [GoldAction("cancel_reservation", {"reservation_id": res_id})],
            [],
        )
    if kind == "bags" and res_id:
        res = db["reservations"][res_id]
        extra = int(rng.integers(1, 3))
        return (
            f"You want to add {extra} checked bags to reservation {res_id}, paid with {card}.",
            [
                GoldAction(
                    "update_reservation_baggages",
                    {
                        "reservation_id": res_id,
                        "total_baggages": res["total_baggages"] + extra,
                        "nonfree_baggages": res["nonfree_baggages"] + extra,
                        "payment_id": card,
                    },
                )
            ],
            [],
        )
    if kind == "passenger" and res_id:
        res = db["reservations"][res_id]
        i = int(rng.integers(len(res["passengers"])))
        new = _person(rng)
        passengers = [dict(p) for p in res["passengers"]]
        old = passengers[i]
        passengers[i] = new
        return (
            f"In reservation {res_id}, you want to replace the passenger {old['first_name']} "
            f"{old['last_name']} with {new['first_name']} {new['last_name']}, born {new['dob']}.",
            [
                GoldAction(
                    "update_reservation_passengers",
                    {"reservation_id": res_id, "passengers": passengers},
                )
            ],
            [],
        )
    if kind == "total" and res_id:
        res = db["reservations"][res_id]
        total = sum(p["amount"] for p in res["payment_history"])
        return (
            f"You want to know how much you paid in total for reservation {res_id}.",
            [GoldAction("get_reservation_details", {"reservation_id": res_id})],
            [str(total)],
        )
    if kind == "book":
        flights = list(db["flights"].values())
        flight = flights[int(rng.integers(len(flights)))]
        days = [
            d
            for d, day in flight["dates"].items()
            if day["status"] == "available" and day["available_seats"]["economy"] >= 1
        ]
        if not days:
            return None
        day = days[int(rng.integers(len(days)))]
        price = flight["dates"][day]["prices"]["economy"]
        me = {
            "first_name": user["name"]["first_name"],
            "last_name": user["name"]["last_name"],
            "dob": user["dob"],
        }
        return (
            f"You want to book a one-way economy flight {flight['flight_number']} from "
            f"{flight['origin']} to {flight['destination']} on {day}, just for yourself. "
            f"You have no checked bags and do not want insurance. You pay with {card}.",
            [
                GoldAction(
                    "book_reservation",
                    {
                        "user_id": user_id,
                        "origin": flight["origin"],
                        "destination": flight["destination"],
                        "flight_type": "one_way",
                        "cabin": "economy",
                        "flights": [{"flight_number": flight["flight_number"], "date": day}],
                        "passengers": [me],
                        "payment_methods": [{"payment_id": card, "amount": price}],
                        "total_baggages": 0,
                        "nonfree_baggages": 0,
                        "insurance": "no",
                    },
                )
            ],
            [],
        )
    return None
