"""Registers ``proxmo/KeyRoom-v0`` (entry point of the ``proxmo_bench.tasks`` group)."""

from proxmo_bench.tasks import register_task


def register() -> None:
    register_task(
        "proxmo/KeyRoom-v0",
        "proxmo_bench.envs.keyroom.env:KeyRoomEnv",
        max_episode_steps=20,
        splits=["train", "test"],
        categories=["same_room", "other_room", "in_drawer"],
        reward_scale=10.0,
        description="Tiny built-in task: find the key, open the chest (tests, docs, smoke runs).",
        expert="proxmo_bench.agents.experts.keyroom:KeyRoomExpert.for_env",
    )
