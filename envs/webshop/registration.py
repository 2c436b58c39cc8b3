"""Registers ``proxmo/WebShop-v0`` (entry point of the ``proxmo_bench.tasks`` group)."""

from proxmo_bench.tasks import register_task

#: Upstream's top-level product categories (the generated catalogue uses the same five).
CATEGORIES = ("beauty", "electronics", "fashion", "garden", "grocery")


def register() -> None:
    register_task(
        "proxmo/WebShop-v0",
        "proxmo_bench.envs.webshop.env:WebShopEnv",
        max_episode_steps=15,
        splits=["train", "test"],
        categories=list(CATEGORIES),
        reward_scale=10.0,
        description="Text WebShop: search, open, pick options, buy; upstream's score "
        "(generated catalogue by default, official files with source='official').",
        expert="proxmo_bench.agents.experts.webshop:WebShopExpert.for_env",
        data_env_var="WEBSHOP_DATA",
    )
