"""How a candidate action relates to the episode: generic text features for a light policy.

Hashed bag-of-words features see the state and the action separately; a small network must learn
from scratch that "take candle 1 from countertop 1" matters when the instruction names a candle.
These features give that relation directly, for any text task (no ALFWorld rules): for each
candidate action ``a`` with content words ``W(a)`` (lower-case letters, stop words removed),

====  ==========================================================================================
 0    ``|W(a) & W(instruction)| / |W(a)|``: the action names what the task is about
 1    ``|W(a) & W(observation)| / |W(a)|``: ... what is in front of the agent now
 2    ``|W(a) & W(instruction) & W(observation)| / |W(a)|``: a task word present here and now
 3    ``|W(a) & W(earlier observations)| / |W(a)|``: seen before in this episode (memory)
 4    ``|W(a) & W(earlier actions)| / |W(a)|``: already acted on in this episode
 5    ``log(1 + times a was taken this episode)``: repeating an action
 6    ``1`` if ``a`` is the previous action
 7    ``1`` if ``a`` starts with the previous action's first word (the same kind of action)
====  ==========================================================================================

The episode memory is the whole history the rollout passes (every earlier observation and
action), not only the policy's short window. Word sets are cached per string.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from proxmo_bench.batch_policy import StepContext

N_RELATIONS = 8
_WORD = re.compile(r"[a-z]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "in",
        "on",
        "at",
        "of",
        "from",
        "for",
        "with",
        "and",
        "or",
        "is",
        "are",
        "was",
        "be",
        "it",
        "its",
        "this",
        "that",
        "there",
        "you",
        "your",
        "see",
        "nothing",
        "into",
        "onto",
    ]
)


@lru_cache(maxsize=200_000)
def content_words(text: str) -> frozenset[str]:
    """Lower-case alphabetic words of ``text`` without stop words."""
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def relation_features(ctx: StepContext, candidates: Sequence[str]) -> np.ndarray:
    """``(len(candidates), N_RELATIONS)`` float32 features (module docstring)."""
    instr = content_words(ctx.instruction)
    obs = content_words(ctx.obs)
    here = instr & obs
    past_obs: frozenset[str] = frozenset().union(*(content_words(o) for o, _ in ctx.history))
    past_acts = [a for _, a in ctx.history]
    acted: frozenset[str] = frozenset().union(*(content_words(a) for a in past_acts))
    counts = Counter(past_acts)
    last = past_acts[-1] if past_acts else None
    last_verb = last.split(" ", 1)[0] if last else None
    out = np.zeros((len(candidates), N_RELATIONS), dtype=np.float32)
    for i, a in enumerate(candidates):
        w = content_words(a)
        n = max(len(w), 1)
        out[i, 0] = len(w & instr) / n
        out[i, 1] = len(w & obs) / n
        out[i, 2] = len(w & here) / n
        out[i, 3] = len(w & past_obs) / n
        out[i, 4] = len(w & acted) / n
        out[i, 5] = math.log1p(counts[a])
        out[i, 6] = 1.0 if a == last else 0.0
        out[i, 7] = 1.0 if last_verb is not None and a.split(" ", 1)[0] == last_verb else 0.0
    return out
