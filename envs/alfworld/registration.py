"""Registers ``proxmo/ALFWorld-v0`` (entry point of the ``proxmo_bench.tasks`` group)."""

from proxmo_bench.envs.alfworld.task_types import CATEGORIES
from proxmo_bench.tasks import register_task


def register() -> None:
    register_task(
        "proxmo/ALFWorld-v0",
        "proxmo_bench.envs.alfworld.env:AlfWorldEnv",
        max_episode_steps=50,
        splits=["train", "valid_seen", "valid_unseen"],
        categories=list(CATEGORIES),
        reward_scale=10.0,
        description="ALFWorld household text games on TextWorld (generated or official games).",
        expert="proxmo_bench.agents.experts.alfworld:AlfWorldExpert.for_env",
        data_env_var="ALFWORLD_DATA",
    )
