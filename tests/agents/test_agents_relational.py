"""The relational CPU agent and its episode-relation features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import proxmo_bench
from proxmo_bench.agents.episode_relations import (
    N_PAGE_RELATIONS,
    N_PAGE_STATE,
    N_RELATIONS,
    N_STATE,
    N_VERBS,
    episode_relations,
    page_descriptions,
    page_relations,
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


_SHOP_INSTRUCTION = (
    "i am looking for a ground coffee that is non gmo with flavor name: french roast, and size: "
    "2 pound, and price lower than 50.00 dollars"
)


def _shop_item_context(history: tuple[tuple[str, str], ...] = ()) -> StepContext:
    obs = (
        f"Instruction: [SEP] {_SHOP_INSTRUCTION} [SEP] Back to Search [SEP] < Prev [SEP] size "
        "[SEP] 12 ounce [SEP] 2 pound [SEP] pack of 2 [SEP] flavor name [SEP] medium roast [SEP] "
        "french roast [SEP] JUNLOKA Ground Coffee, Non Gmo [SEP] Price: $19.38 [SEP] Description "
        "[SEP] Buy Now"
    )
    return StepContext("proxmo/WebShop-v0", obs, {"instruction": _SHOP_INSTRUCTION}, history, 2)


def test_page_relations_by_hand() -> None:
    cands = [
        "click[back to search]",
        "click[12 ounce]",
        "click[2 pound]",
        "click[pack of 2]",
        "click[medium roast]",
        "click[french roast]",
        "click[description]",
        "click[buy now]",
        f"search[{_SHOP_INSTRUCTION}]",
    ]
    rel, state = page_relations(_shop_item_context(), cands)
    assert rel.shape == (9, N_PAGE_RELATIONS) and state.shape == (N_PAGE_STATE,)
    # quoted word for word by the instruction: "2 pound" (not "pack of 2": its words are there,
    # not the phrase), "french roast" (not "medium roast"), the query
    assert rel[:, 0].tolist() == [0, 0, 1, 0, 0, 1, 0, 0, 1]
    # listing order among candidates whose page text shares a task word: "back to search" (the
    # option label "size" follows it), "pack of 2" ("flavor name"), "french roast" (the title)
    np.testing.assert_allclose(rel[:, 1], [1, 0, 0, 1 / 2, 0, 1 / 3, 0, 0, 0])
    assert state[0] == 1  # quoted options not taken yet
    # once both options (and the query) were taken, nothing quoted is left
    done = tuple(
        (_shop_item_context().obs, a)
        for a in ("click[2 pound]", "click[french roast]", f"search[{_SHOP_INSTRUCTION}]")
    )
    assert page_relations(_shop_item_context(done), cands)[1][0] == 0


def test_page_relations_rank_a_results_listing_and_spare_alfworld() -> None:
    obs = (
        f"Instruction: [SEP] {_SHOP_INSTRUCTION} [SEP] Back to Search [SEP] Next > [SEP] B0AAA "
        "[SEP] Ground Coffee, Non Gmo [SEP] $19.38 [SEP] B0BBB [SEP] Desk Lamp [SEP] $9.00 [SEP] "
        "B0CCC [SEP] Whole Bean Coffee [SEP] $23.94"
    )
    ctx = StepContext("proxmo/WebShop-v0", obs, {"instruction": _SHOP_INSTRUCTION}, (), 1)
    cands = [
        "click[back to search]",
        "click[next >]",
        "click[b0ccc]",
        "click[b0bbb]",
        "click[b0aaa]",
    ]
    rel, _ = page_relations(ctx, cands)
    # in page order among the products whose title names the task: b0aaa first, b0ccc second;
    # the lamp shares no task word
    assert rel[:, 1].tolist() == [0, 0, 0.5, 0, 1]
    # ALFWorld: no argument the instruction quotes, observations that list no candidates
    alf = page_relations(_alf_context(), ["take candle 1 from toilet 1", "go to toilet 1", "look"])
    assert not alf[0].any() and alf[1][0] == 0


def test_page_relations_widen_the_features_only_when_asked() -> None:
    cands = ["click[2 pound]", "click[medium roast]", "click[buy now]"]
    base = _shop_item_context()
    ctx = StepContext(base.task, base.obs, {**base.info, "admissible_actions": cands}, (), 2)
    plain = RelationalAgent(seed=3).act_batch([ctx])[0].sample
    paged = RelationalAgent(seed=3, pages=True).act_batch([ctx])[0].sample
    assert plain.relations.shape == (3, N_RELATIONS) and plain.state.shape == (N_STATE,)
    assert paged.relations.shape == (3, N_RELATIONS + N_PAGE_RELATIONS)
    assert paged.state.shape == (N_STATE + N_PAGE_STATE,)
    page, left = page_relations(ctx, cands)
    np.testing.assert_array_equal(paged.relations[:, :N_RELATIONS], plain.relations)
    np.testing.assert_array_equal(paged.relations[:, N_RELATIONS:], page)
    np.testing.assert_array_equal(paged.state, np.concatenate([plain.state, left]))
