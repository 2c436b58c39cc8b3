"""A pure-Python ALFWorld engine, equivalent to the TextWorld engine on the official game files.

``FastEngine`` (``engine="fast"``) implements :class:`proxmo_bench.envs.alfworld.engine.Engine`.
Modules: ``problem`` (reading ``game.tw-pddl``), ``naming`` (ALFWorld's object names), ``goal``
(PDDL goal test), ``world`` (the domain's dynamics and texts), ``engine`` (the engine class),
``equivalence`` (step-by-step comparison with the TextWorld engine).
"""

from proxmo_bench.envs.alfworld.fast.engine import FastEngine

__all__ = ["FastEngine"]
