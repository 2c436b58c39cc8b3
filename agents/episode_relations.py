"""How each candidate action relates to the task and to the episode so far: generic text features.

A policy that reads bag-of-words features of the state and of an action separately must learn,
from rare successes, that "take candle 1 from toilet 1" matters when the instruction names a
candle. These features state such relations directly, for any text task with listed actions (no
rules of one game). Texts are read as

- content words ``W(x)``: lower-case alphabetic words without stop words;
- mentions ``E(x)``: numbered entities, a word followed by a number ("cabinet 1"); tasks without
  numbered entities (WebShop) simply have none, and the mention features are 0.

With ``I = W(instruction)``; ``O`` the current observation and ``P`` the earlier observations (the
instruction's text removed from both, so its words do not count as seen); ``A`` the actions
already taken; ``L`` the mentions of any observation (earlier or current) that names a task word
("on the toilet 1, you see a candle 1": toilet 1 is where a task object was seen), each
candidate ``a`` gets the relation vector ``r(a)``:

====  ==========================================================================================
 0    ``1`` (the verb's own bias, see :class:`RelationalAgent`)
 1    ``|W(a) & I| / |W(a)|``: the action is about the task
 2    ``[W(a) & I non-empty]``
 3    ``|W(a) & I| / |I|``: how much of the task the action covers
 4    ``|E(a) & E(O)| / |E(a)|``: its entities are here now
 5    ``|E(a) & E(P)| / |E(a)|``: ... were seen earlier in the episode
 6    ``|E(a) & E(A)| / |E(a)|``: ... were acted on already (a place visited, a thing handled)
 7    ``|E(a) & L| / |E(a)|``: ... were seen together with a task word
 8    share of ``E(a)`` whose word is a task word (the task's own objects)
 9    ``|W(a) & I & W(A)| / |W(a)|``: task words already acted on (progress)
 10   ``|W(a) & W(O)| / |W(a)|``: its words are in the current observation
 11   ``log(1 + times a was taken)``: repeating an action
 12   ``[a is the previous action]``
 13   ``[E(a) non-empty and inside E(previous action)]``: the entity just acted on
 14   ``|W(d(a)) & I| / |I|``: the page text the action stands for covers the task
 15   ``|W(d(a)) & I| / |W(d(a))|``: ... and is about the task
 16   ``[every number in d(a) <= the instruction's largest number]`` (a price within a budget)
 17   ``|N(a) & N(instruction)| / |N(a)|``: the action's numbers ``N`` are the task's ("size 7")
====

where ``d(a)`` is the part of the current observation that follows the action's argument (the
text inside ``[...]``, or the whole action) up to the next candidate's argument: on a page that
lists "B0C39THAT9 [SEP] ZENWYN Card Holder Phone Case [SEP] $12.99", ``click[b0c39that9]``
stands for the product's title and price; actions the observation does not quote have none.

and the state vector ``s`` (the same for every candidate): ``|I & W(A)| / |I|`` (progress),
``|I & W(O)| / |I|``, ``[O repeats the previous observation]`` (the last action changed nothing),
``log(1 + t) / log(51)`` at step ``t`` and ``[some candidate names a task word and was not taken
yet]`` (what is left to do). An action's verb is its first word, hashed (CRC-32,
stable across processes) into ``N_VERBS`` buckets.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from proxmo_bench.batch_policy import StepContext

N_RELATIONS = 18
N_STATE = 5
N_VERBS = 32
_WORD = re.compile(r"[a-z]+")
_MENTION = re.compile(r"\b([a-z]+) (\d+)\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ARGUMENT = re.compile(r"\[(.*)\]")
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
        "by",
        "as",
    ]
)


@dataclass(frozen=True)
class ParsedText:
    """What the features read from one string: its content words, mentions and their words."""

    words: frozenset[str]
    mentions: frozenset[str]
    mention_words: tuple[str, ...]
    verb: int
    numbers: frozenset[float]


@lru_cache(maxsize=200_000)
def parse(text: str) -> ParsedText:
    """Content words, numbered mentions and verb bucket of ``text`` (cached per string)."""
    low = text.lower()
    words = frozenset(w for w in _WORD.findall(low) if w not in _STOP)
    found = _MENTION.findall(low)
    first = _WORD.search(low)
    verb = zlib.crc32(first.group(0).encode()) % N_VERBS if first else 0
    return ParsedText(
        words,
        frozenset(f"{w} {n}" for w, n in found),
        tuple(w for w, _ in found),
        verb,
        frozenset(float(x) for x in _NUMBER.findall(low)),
    )


@lru_cache(maxsize=50_000)
def _observation(text: str, instruction: str) -> ParsedText:
    """``parse`` of an observation with the instruction's text taken out."""
    return parse(text.replace(instruction, " ") if instruction else text)


def _argument(action: str) -> str:
    found = _ARGUMENT.search(action)
    return (found.group(1) if found else action).strip().lower()


def page_descriptions(obs: str, candidates: Sequence[str], instruction: str = "") -> list[str]:
    """``d(a)`` for each candidate: the observation's text (without the instruction's) from the
    end of the action's argument, quoted as whole words, to the start of the next quoted argument;
    empty when the observation does not quote it (cached: rollouts of a game repeat pages)."""
    return list(_page_descriptions(obs, tuple(candidates), instruction))


@lru_cache(maxsize=20_000)
def _page_descriptions(obs: str, candidates: tuple[str, ...], instruction: str) -> tuple[str, ...]:
    low = (obs.replace(instruction, " ") if instruction else obs).lower()
    spans = []
    for a in candidates:
        arg = _argument(a)
        found = re.search(r"\b" + re.escape(arg) + r"\b", low) if len(arg) > 1 else None
        spans.append(found.span() if found else None)
    starts = sorted(s[0] for s in spans if s is not None)
    out = []
    for span in spans:
        if span is None:
            out.append("")
            continue
        nxt = [s for s in starts if s >= span[1]]
        out.append(low[span[1] : nxt[0] if nxt else len(low)][:400])
    return tuple(out)


@dataclass(frozen=True)
class EpisodeMemory:
    """What the features remember of an episode's history (earlier observations and actions)."""

    seen_before: frozenset[str]  # mentions of earlier observations
    acted_on: frozenset[str]  # mentions of earlier actions
    acted_words: frozenset[str]  # content words of earlier actions
    with_task: frozenset[str]  # mentions of earlier observations that name a task word
    counts: Counter[str]  # times each action was taken


_EMPTY = EpisodeMemory(frozenset(), frozenset(), frozenset(), frozenset(), Counter())
_MEMORY_ENTRIES = 100_000
_memories: dict[tuple[str, tuple[tuple[str, str], ...]], EpisodeMemory] = {}


def episode_memory(instruction: str, history: tuple[tuple[str, str], ...]) -> EpisodeMemory:
    """The memory after ``history``, built from the memory one step earlier (memoised by the
    history itself, so an episode's step costs one step's update, not a pass over the episode)."""
    # the longest prefix already remembered, then forward one step at a time
    n = len(history)
    while n and (instruction, history[:n]) not in _memories:
        n -= 1
    mem = _memories[(instruction, history[:n])] if n else _EMPTY
    task = parse(instruction).words
    for k in range(n, len(history)):
        obs, action = history[k]
        o, a = _observation(obs, instruction), parse(action)
        counts = mem.counts.copy()
        counts[action] += 1
        mem = EpisodeMemory(
            mem.seen_before | o.mentions,
            mem.acted_on | a.mentions,
            mem.acted_words | a.words,
            mem.with_task | o.mentions if o.words & task else mem.with_task,
            counts,
        )
        if len(_memories) >= _MEMORY_ENTRIES:
            _memories.clear()
        _memories[(instruction, history[: k + 1])] = mem
    return mem


@lru_cache(maxsize=200_000)
def _static(action: str, instruction: str) -> tuple[ParsedText, tuple[float, ...]]:
    """The parse of ``action`` and its relations that depend on the task alone: features 0, 1, 2,
    3 and 8 (in that order)."""
    p = parse(action)
    task = parse(instruction).words
    on_task = p.words & task
    nw = max(len(p.words), 1)
    share = (
        sum(x in task for x in p.mention_words) / len(p.mention_words) if p.mention_words else 0.0
    )
    return p, (
        1.0,
        len(on_task) / nw,
        1.0 if on_task else 0.0,
        len(on_task) / max(len(task), 1),
        share,
    )


def episode_relations(
    ctx: StepContext, candidates: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(r, s, v)``: relations ``(K, N_RELATIONS)`` float32, state ``(N_STATE,)`` float32 and
    verb buckets ``(K,)`` int64 for the ``K`` candidates (module docstring)."""
    instr_text = ctx.instruction
    parsed_task = parse(instr_text)
    task = parsed_task.words
    budget = max(parsed_task.numbers, default=None)
    n_task = max(len(task), 1)
    now = _observation(ctx.obs, instr_text)
    memory = episode_memory(instr_text, tuple(ctx.history))
    seen_before, acted_on = memory.seen_before, memory.acted_on
    with_task = memory.with_task | now.mentions if now.words & task else memory.with_task
    counts = memory.counts
    last = ctx.history[-1][1] if ctx.history else None
    last_mentions = parse(last).mentions if last is not None else frozenset()
    progress = task & memory.acted_words

    descriptions = page_descriptions(ctx.obs, candidates, instr_text)
    state = np.array(
        [
            len(progress) / n_task,
            len(task & now.words) / n_task,
            1.0 if ctx.history and ctx.history[-1][0] == ctx.obs else 0.0,
            math.log1p(len(ctx.history)) / math.log(51.0),
            0.0,
        ],
        dtype=np.float32,
    )
    rows = []
    verbs = np.zeros(len(candidates), dtype=np.int64)
    now_m, now_w = now.mentions, now.words
    for i, a in enumerate(candidates):
        p, static = _static(a, instr_text)
        verbs[i] = p.verb
        w, m = p.words, p.mentions
        nw = max(len(w), 1)
        r0, r1, r2, r3, r8 = static  # the task-only relations; the rest depends on the episode
        row = [r0, r1, r2, r3, 0.0, 0.0, 0.0, 0.0, r8] + [0.0] * (N_RELATIONS - 9)
        if m:
            nm = len(m)
            row[4] = len(m & now_m) / nm
            row[5] = len(m & seen_before) / nm
            row[6] = len(m & acted_on) / nm
            row[7] = len(m & with_task) / nm
            row[13] = 1.0 if m <= last_mentions else 0.0
        row[9] = len(w & task & progress) / nw
        row[10] = len(w & now_w) / nw
        row[11] = math.log1p(counts[a])
        row[12] = 1.0 if a == last else 0.0
        if p.numbers:
            row[17] = len(p.numbers & parsed_task.numbers) / len(p.numbers)
        if descriptions[i]:
            d = parse(descriptions[i])
            shared = len(d.words & task)
            row[14] = shared / n_task
            row[15] = shared / max(len(d.words), 1)
            if d.numbers and budget is not None and max(d.numbers) <= budget:
                row[16] = 1.0
        rows.append(row)
    rel = np.array(rows, dtype=np.float32).reshape(len(candidates), N_RELATIONS)
    state[4] = float(bool(((rel[:, 2] > 0) & (rel[:, 11] == 0)).any()))
    return rel, state, verbs


N_PAGE_RELATIONS = 2
N_PAGE_STATE = 1


def _whole_words(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?![a-z0-9])")


@lru_cache(maxsize=200_000)
def _quoted_by_task(action: str, instruction: str) -> bool:
    """Whether the action's argument (the text in ``[...]``, else what follows its verb), two
    characters or more, is quoted word for word by the instruction."""
    found = _ARGUMENT.search(action)
    arg = found.group(1) if found else action.strip().partition(" ")[2]
    arg = " ".join(arg.lower().split())
    return len(arg) > 1 and _whole_words(arg).search(instruction.lower()) is not None


def page_relations(ctx: StepContext, candidates: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(q, s')``: page relations ``(K, N_PAGE_RELATIONS)`` and page state ``(N_PAGE_STATE,)``,
    float32, for pages that list what can be chosen (a shop's results, an item's options).

    ====  ======================================================================================
     0    ``[the instruction quotes a's argument]``: an option ("2 pound", "french roast") or a
          query taken word for word from the task, where word overlap cannot tell "french roast"
          from "medium roast" or "pack of 2" from "pack of 6"
     1    ``1 / (1 + k)`` where ``a`` is the ``k``-th candidate, in page order (where its
          argument first occurs in the text), whose page text ``d(a)`` shares a word with the
          task (0 when it shares none): a search engine lists the best matches first
    ====  ======================================================================================

    and ``s' = [some candidate with q_0 = 1 was not taken yet]``: what the task names and is
    still left to do. Actions without an argument ("look") and plain actions whose argument the
    instruction never quotes (ALFWorld's numbered objects) get ``q_0 = 0``; observations that do
    not quote the candidates (ALFWorld's) give ``q_1 = 0``.
    """
    instruction = ctx.instruction
    task = parse(instruction).words
    counts = episode_memory(instruction, tuple(ctx.history)).counts
    out = np.zeros((len(candidates), N_PAGE_RELATIONS), dtype=np.float32)
    out[:, 0] = [_quoted_by_task(a, instruction) for a in candidates]
    descriptions = page_descriptions(ctx.obs, candidates, instruction)
    low = ctx.obs.replace(instruction, " ").lower() if instruction else ctx.obs.lower()
    listed = []
    for i, d in enumerate(descriptions):
        if d and parse(d).words & task:
            listed.append((low.find(_argument(candidates[i])), i))
    for k, (_, i) in enumerate(sorted(listed)):
        out[i, 1] = 1.0 / (1 + k)
    left = any(q and counts[a] == 0 for q, a in zip(out[:, 0], candidates, strict=True))
    return out, np.array([1.0 if left else 0.0], dtype=np.float32)
