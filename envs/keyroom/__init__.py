"""KeyRoom: a tiny built-in text task (find a key, open a chest) for tests, docs and smoke runs."""

from proxmo_bench.envs.keyroom.env import KeyRoomEnv

__all__ = ["KeyRoomEnv"]
