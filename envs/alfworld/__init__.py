"""ALFWorld: household text games (pick, look, clean, heat, cool, pick2) on TextWorld's PDDL engine.

The engine is an optional extra (``pip install 'proxmo-bench[alfworld]'``); importing this package
does not import it.
"""

from proxmo_bench.envs.alfworld.engine import Engine, EngineState, GameFileError
from proxmo_bench.envs.alfworld.env import AlfWorldEnv

__all__ = ["AlfWorldEnv", "Engine", "EngineState", "GameFileError"]
