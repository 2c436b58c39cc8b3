"""proxmo-bench: multi-turn text environments for LLM agents and an RL benchmark harness.

Public API (stable): :func:`make`, :func:`register_task`, :func:`list_tasks`, :class:`TaskSpec`,
:class:`TextEnv`, and from :mod:`proxmo_bench.estimators`: ``StepBatch``, ``get_estimator``,
``register_estimator``, ``discounted_returns``.
"""

from importlib import metadata as _metadata

from proxmo_bench.env import TextEnv, TextSpace
from proxmo_bench.tasks import (
    TaskSpec,
    get_task_spec,
    list_tasks,
    load_entry_points,
    make,
    register_task,
)

try:
    __version__ = _metadata.version("proxmo-bench")
except _metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

# Registers the built-in families and third-party tasks, so gymnasium.make("proxmo/...") works
# right after `import proxmo_bench`.
load_entry_points()

__all__ = [
    "TaskSpec",
    "TextEnv",
    "TextSpace",
    "__version__",
    "get_task_spec",
    "list_tasks",
    "make",
    "register_task",
]
