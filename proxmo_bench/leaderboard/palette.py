"""One colour per estimator, the same in every chart of every suite.

The built-in estimators, sorted by name, take the palette's colours in order, so adding a row to a
table never recolours another; a name outside that list (a plug-in) gets a colour from a hash of
its name (stable across runs and machines, unlike ``hash()``). Untrained agents are grey.
"""

from __future__ import annotations

import colorsys
import hashlib

#: Built-in estimator names (``proxmo_bench.estimators.registry``), sorted; order fixes colours.
KNOWN_ESTIMATORS = (
    "drgrpo",
    "gigpo",
    "grpo",
    "hgpo",
    "ppo_gae",
    "proxmo",
    "rebn",
    "reinforce_pp",
    "rloo",
)
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#8c564b",
    "#9467bd",
    "#d62728",
    "#e377c2",
    "#17becf",
    "#bcbd22",
)
UNTRAINED = "#7f7f7f"


def estimator_colour(name: str | None) -> str:
    """``#rrggbb`` for an estimator name (``None`` or ``'-'``: an untrained agent, grey).

    A label with a compatibility suffix (``'proxmo (reference)'``) has its base name's colour.
    """
    if name is None or name.strip() in ("", "-"):
        return UNTRAINED
    base = name.split(" (", 1)[0].strip().lower()
    if base in KNOWN_ESTIMATORS:
        return PALETTE[KNOWN_ESTIMATORS.index(base)]
    digest = hashlib.sha256(base.encode()).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536.0
    r, g, b = colorsys.hls_to_rgb(hue, 0.42, 0.65)
    return f"#{round(255 * r):02x}{round(255 * g):02x}{round(255 * b):02x}"
