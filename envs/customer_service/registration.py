"""Registers ``proxmo/Retail-v0`` and ``proxmo/Airline-v0`` (entry point ``proxmo_bench.tasks``)."""

from proxmo_bench.tasks import register_task

#: Upstream tau-bench agents stop after 30 steps.
MAX_STEPS = 30

RETAIL_CATEGORIES = (
    "cancel_pending_order",
    "exchange_delivered_order_items",
    "modify_pending_order_address",
    "modify_pending_order_items",
    "modify_pending_order_payment",
    "modify_user_address",
    "return_delivered_order_items",
    "lookup",
)
AIRLINE_CATEGORIES = (
    "book_reservation",
    "cancel_reservation",
    "send_certificate",
    "update_reservation_baggages",
    "update_reservation_flights",
    "update_reservation_passengers",
    "lookup",
)


def register() -> None:
    register_task(
        "proxmo/Retail-v0",
        "proxmo_bench.envs.customer_service.env:RetailEnv",
        max_episode_steps=MAX_STEPS,
        splits=["train", "dev", "test"],
        categories=RETAIL_CATEGORIES,
        description="tau-bench-style retail customer service: tools, policy, simulated customer.",
    )
    register_task(
        "proxmo/Airline-v0",
        "proxmo_bench.envs.customer_service.env:AirlineEnv",
        max_episode_steps=MAX_STEPS,
        splits=["test"],
        categories=AIRLINE_CATEGORIES,
        description="tau-bench-style airline customer service: tools, policy, simulated customer.",
    )
