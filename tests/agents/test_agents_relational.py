"""The relational CPU agent and its episode-relation features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import proxmo_bench
from proxmo_bench.agents.episode_relations import (
    N_RELATIONS,
    N_STATE,
    N_VERBS,
    episode_relations,
    page_descriptions,
    parse,
)
from proxmo_bench.agents.relational_agent import RelationalAgent, expand_templates
from proxmo_bench.batch_policy import StepContext

ALF = "proxmo/ALFWorld-v0"


def _alf_context() -> StepContext:
    return StepContext(
        ALF,
        "You arrive at toilet 1. On the toilet 1, you see a candle 1, and a soapbar 2.",
        {"instruction": "put a candle in cabinet."},
        history=(
            (
                "You are in the middle of a room. You see a cabinet 1, and a toilet 1.\n\n"
                "Your task is to: put a candle in cabinet.",
                "go to toilet 1",
            ),
        ),
        step=1,
    )


def test_parse_reads_words_mentions_and_a_stable_verb() -> None:
    p = parse("Take candle 1 from countertop 2")
    assert p.words == {"take", "candle", "countertop"}
    assert p.mentions == {"candle 1", "countertop 2"} and sorted(p.mention_words) == [
        "candle",
        "countertop",
    ]
    # CRC-32 of the first word: the same bucket in every process (Python's hash() is salted)
    assert p.verb == 937258619 % N_VERBS == parse("take soapbar 1 from toilet 1").verb


def test_episode_relations_by_hand() -> None:
    cands = ["take candle 1 from toilet 1", "go to toilet 1", "go to cabinet 1", "inventory"]
    rel, state, verbs = episode_relations(_alf_context(), cands)
    assert rel.shape == (4, N_RELATIONS) and rel.dtype == np.float32
    assert state.shape == (N_STATE,) and verbs.dtype == np.int64
    take, stay, cabinet, inv = rel
    assert (rel[:, 0] == 1).all()
    # take candle 1 from toilet 1: words {take, candle, toilet}; task words {put, candle, cabinet}
    assert take[1] == pytest.approx(1 / 3) and take[2] == 1 and take[3] == pytest.approx(1 / 3)
    assert take[4] == 1.0  # candle 1 and toilet 1 are both in view
    assert take[5] == pytest.approx(1 / 2)  # toilet 1 was seen before; candle 1 was not
    assert take[6] == pytest.approx(1 / 2)  # toilet 1 was acted on (gone to)
    assert take[7] == 1.0  # both were seen in an observation naming a task word (candle)
    assert take[8] == pytest.approx(1 / 2)  # candle is a task object, toilet is not
    assert stay[12] == 1 and stay[11] == pytest.approx(np.log(2)) and stay[13] == 1
    # cabinet 1: a task word; the first observation names it only in the instruction's own text,
    # which is taken out, but its room description lists it
    assert cabinet[2] == 1 and cabinet[5] == 1.0 and cabinet[4] == 0.0
    assert not inv[1:].any()
    # state: no task word acted on yet; candle (1 of 3 task words) in view; step 1 of history
    assert state[0] == 0 and state[1] == pytest.approx(1 / 3) and state[2] == 0
    assert state[3] == pytest.approx(np.log(2) / np.log(51)) and state[4] == 1


def test_page_descriptions_quote_the_text_each_clickable_stands_for() -> None:
    obs = (
        "Instruction: [SEP] a blue phone case [SEP] Back to Search [SEP] B0AAA [SEP] Blue Case "
        "[SEP] $9.99 [SEP] B0BBB [SEP] Red Mug [SEP] $3.00"
    )
    cands = ["click[back to search]", "click[b0aaa]", "click[b0bbb]", "click[buy now]"]
    d = page_descriptions(obs, cands, "a blue phone case")
    assert "blue case" in d[1] and "red mug" not in d[1] and "red mug" in d[2]
    assert d[3] == ""  # not quoted on the page
    ctx = StepContext("proxmo/WebShop-v0", obs, {"instruction": "a blue phone case"})
    rel, _, _ = episode_relations(ctx, cands)
    assert rel[1, 14] > rel[2, 14] == 0  # the blue case covers the task, the mug does not


def test_templates_are_filled_with_the_instruction() -> None:
    out = expand_templates(["search[<query>]", "click[next >]"], "a red  shoe, size 9")
    assert out == ["search[a red shoe, size 9]", "search[a red shoe]", "click[next >]"]
    assert expand_templates(["look"], "") == ["look"]


def test_untrained_policy_is_uniform_and_rescoring_matches() -> None:
    env = proxmo_bench.make(ALF, difficulty=1, categories=["pick", "look"])
    ctxs = []
    for s in range(4):
        obs, info = env.reset(seed=s)
        ctxs.append(StepContext(ALF, obs, info))
    agent = RelationalAgent(hidden=8, seed=0)
    torch.manual_seed(0)
    decisions = agent.act_batch(ctxs)
    for c, d in zip(ctxs, decisions, strict=True):
        assert d.action in c.info["admissible_actions"]
        n = len(c.info["admissible_actions"])
        assert d.sample.old_logp == pytest.approx(-np.log(n), abs=0.05)  # ~uniform at the start
    samples = [d.sample for d in decisions]
    logp, mask, ent = agent.token_logprobs(samples, with_entropy=True)
    assert torch.allclose(logp, agent.old_logprobs(samples), atol=1e-5) and mask.sum() == 4
    assert ent is not None and bool((ent > 0).all())
    a = [d.action for d in RelationalAgent(seed=3).act_batch(ctxs, greedy=True)]
    assert a == [d.action for d in RelationalAgent(seed=3).act_batch(ctxs, greedy=True)]


def test_gradient_moves_probability_and_state_dict_round_trips() -> None:
    ctx = StepContext(
        "t",
        "You see a key 1.",
        {"instruction": "take the key", "admissible_actions": ["take key 1", "look"]},
    )
    agent = RelationalAgent(hidden=8, seed=0)
    (d,) = agent.act_batch([ctx])
    opt = torch.optim.SGD(agent.module.parameters(), lr=1.0)
    before = float(agent.token_logprobs([d.sample])[0])
    for _ in range(3):
        opt.zero_grad()
        (-agent.token_logprobs([d.sample])[0].sum()).backward()
        opt.step()
    assert float(agent.token_logprobs([d.sample])[0]) > before
    other = RelationalAgent(hidden=8, seed=5)
    other.load_state_dict(agent.state_dict())
    assert float(other.token_logprobs([d.sample])[0]) == float(agent.token_logprobs([d.sample])[0])


def test_needs_admissible_actions() -> None:
    with pytest.raises(ValueError, match="admissible actions"):
        RelationalAgent().act_batch([StepContext("t", "obs", {"instruction": "x"})])
    with pytest.raises(ValueError, match="hidden"):
        RelationalAgent(hidden=0)


def test_memory_is_the_same_cold_or_memoised_and_takes_long_episodes() -> None:
    from proxmo_bench.agents import episode_relations as er

    history = tuple((f"You see a box {i}.", f"open box {i % 7}") for i in range(3000))
    er._memories.clear()
    cold = er.episode_memory("open the box", history)
    warm = er.episode_memory("open the box", history)  # memoised
    er._memories.clear()
    er.episode_memory("open the box", history[:1500])
    resumed = er.episode_memory("open the box", history)  # from a remembered prefix
    assert cold == warm == resumed
    assert len(cold.seen_before) == 3000 and cold.counts["open box 0"] == 429
    # hostile strings: any text is a valid observation, instruction or action
    ctx = StepContext("t", "\x00[]]][[ <<>> 9999999999999999999999 a 1", {"instruction": "[<x>]"})
    rel, state, verbs = episode_relations(ctx, ["", "[", "<x>", "a 1 " * 500])
    assert np.isfinite(rel).all() and np.isfinite(state).all() and verbs.shape == (4,)
