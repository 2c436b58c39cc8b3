"""Registers ``proxmo/Retail-v0`` and ``proxmo/Airline-v0`` (entry point ``proxmo_bench.tasks``)."""

from proxmo_bench.tasks import register_task

#: Upstream tau-bench agents stop after 30 steps.
MAX_STEPS = 30
#: Baselines of both domains: the gold-action replay, and random tool calls and messages (the
#: envs list no admissible actions); official data from tau-bench's folder.
EXPERT = "proxmo_bench.agents.experts.customer_service:GoldActionAgent.for_env"
RANDOM_AGENT = "proxmo_bench.agents.random_tool_agent:RandomToolAgent"
DATA_ENV_VAR = "TAU_BENCH_DATA"

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
        expert=EXPERT,
        random_agent=RANDOM_AGENT,
        data_env_var=DATA_ENV_VAR,
    )
    register_task(
        "proxmo/Airline-v0",
        "proxmo_bench.envs.customer_service.env:AirlineEnv",
        max_episode_steps=MAX_STEPS,
        splits=["test"],
        categories=AIRLINE_CATEGORIES,
        description="tau-bench-style airline customer service: tools, policy, simulated customer.",
        expert=EXPERT,
        random_agent=RANDOM_AGENT,
        data_env_var=DATA_ENV_VAR,
    )
