"""Group rollouts (G copies of one task from one seed), env backends and episode records."""

from proxmo_bench.rollout.records import (
    TERMINATIONS,
    EpisodeRecord,
    read_episodes,
    replay_episode,
    write_episodes,
)

__all__ = ["TERMINATIONS", "EpisodeRecord", "read_episodes", "replay_episode", "write_episodes"]
