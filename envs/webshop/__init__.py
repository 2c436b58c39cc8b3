"""WebShop family: text-mode web shopping with search, product pages and upstream's reward.

``get_reward`` keeps upstream's signature and dict formats (ARCHITECTURE section 2). The env
class is imported on first use, so registering the task (at ``import proxmo_bench``) stays cheap.
"""

from typing import Any

from proxmo_bench.envs.webshop.reward import get_reward

__all__ = ["WebShopEnv", "get_reward"]


def __getattr__(name: str) -> Any:
    if name == "WebShopEnv":
        from proxmo_bench.envs.webshop.env import WebShopEnv

        return WebShopEnv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
