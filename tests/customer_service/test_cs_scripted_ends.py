"""The scripted customer ends the conversation once the agent has done the work and asks whether
anything else is needed, however the agent words that closing (issue 19, part 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import proxmo_bench
from proxmo_bench.agents.experts.customer_service import GoldActionAgent
from proxmo_bench.agents.random_tool_agent import MESSAGES
from proxmo_bench.envs.customer_service.domain import Domain
from proxmo_bench.envs.customer_service.episode import Episode
from proxmo_bench.envs.customer_service.task import Task
from proxmo_bench.envs.customer_service.tool_call import format_tool_call
from proxmo_bench.envs.customer_service.users import STOP_TOKEN, ScriptedUser
from proxmo_bench.envs.customer_service.users.scripted import asks_closing

from .helpers_cs import run_episode, unwrapped

TRAIN_STYLE = (
    "Your name is Harper Johansson and your zip code is 80281. You are happy, direct. "
    "For #W2912646, change address to {'order_id': '#W2912646', 'address1': '953 Park Avenue', "
    "'city': 'New York', 'country': 'USA', 'state': 'NY', 'zip': '10064'} (same as #W1780552). "
    "For #W1205816, change payment to gift_card_5715854. "
)

#: Closings an agent may use after doing the work. Each once trapped the customer: a record with
#: its zip or email read as an identity question (the identity restated until the step limit),
#: "would you like me" / "should I" / "confirm" read as a confirmation request ("Yes, please go
#: ahead." until the cap, which ran long airline tasks into the step limit).
CLOSINGS = {
    "gold": "Is there anything else I can help you with?",
    "offer": "All done! Would you like me to help with anything else?",
    "should": "Your request is complete. Should I help you with anything else?",
    "confirm": "Done. Can I confirm there is nothing else you need?",
    "record": "I've updated the zip code and email on file. Anything else?",
}


def _task(instruction: str) -> Task:
    return Task("train/0", "harper_johansson_2663", instruction, ())


def test_closing_questions_are_recognised() -> None:
    for closing in CLOSINGS.values():
        assert asks_closing(closing), closing
    assert asks_closing("IS THAT ALL?") and asks_closing("Will that be all for today?")
    for message in ("Would you like me to proceed?", "Could you tell me your email?", "Else?"):
        assert not asks_closing(message), message


def test_a_completion_report_moves_on_even_when_it_quotes_a_record() -> None:
    user = ScriptedUser()
    assert user.reset(_task(TRAIN_STYLE)).startswith("Hi! My name is Harper Johansson")
    report = "The new address is 953 Park Avenue, New York, NY, zip 10064; email on file kept."
    # Without a closing question, zip/email still read as an identity question.
    assert user.respond(report).startswith("My name is Harper Johansson")
    assert user.respond(report + " Anything else?").startswith("For #W2912646, change address")
    assert user.respond("Would you like me to proceed?") == "Yes, please go ahead."
    assert user.respond("Would you like me to help with anything else?").startswith(
        "For #W1205816, change payment"
    )
    assert STOP_TOKEN in user.respond(report + " Is there anything else I can help you with?")


def test_messages_without_a_closing_question_are_answered_as_before() -> None:
    # The published random-agent episodes replay these messages: their replies must not change.
    user = ScriptedUser()
    user.reset(_task(TRAIN_STYLE))
    replies = [user.respond(m) for m in MESSAGES]
    assert replies == [
        "For #W2912646, change address to {'order_id': '#W2912646', 'address1': '953 Park "
        "Avenue', 'city': 'New York', 'country': 'USA', 'state': 'NY', 'zip': '10064'} (same "
        "as #W1780552).",
        "My name is Harper Johansson and my zip code is 80281.",
        "For #W1205816, change payment to gift_card_5715854.",
        "That's all I needed, thank you! " + STOP_TOKEN,
        "Yes, please go ahead.",
        "That's all I needed, thank you! " + STOP_TOKEN,
    ]


class ClosingGoldAgent(GoldActionAgent):
    """The gold-action expert with another closing: after the gold calls it says the required
    outputs, optionally quotes the last tool result (what a helpful agent reports back), then
    ``closing``; it repeats that until the customer stops (or transfers, as the expert does)."""

    def __init__(self, domain: Domain, closing: str, *, quote_result: bool) -> None:
        super().__init__(domain.task)
        self.closing = closing
        self.quote_result = quote_result
        self._last_result = ""

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        super().reset(obs, info)
        self._last_result = ""
        outputs = self.lookup(str(info["task_id"])).outputs
        said = f"Here is what you asked for: {'; '.join(outputs)}. " if outputs else ""
        self._closing = said + self.closing

    def act(self, obs: str, info: dict[str, Any]) -> str:
        if obs.startswith("Tool "):
            self._last_result = obs
        action = super().act(obs, info)
        if self.quote_result and self._last_result and not action.startswith("{"):
            return f"{self._last_result}\n{action}"
        return action


def _gold_reward(domain: Domain, task: Task) -> float:
    """The reward of the gold calls alone (transfers left out, outputs said), no customer."""
    ep = Episode(domain, task)
    for action in task.actions:
        if action.name != "transfer_to_human_agents":
            ep.agent_acts(format_tool_call(action.name, action.arguments))
    if task.outputs:
        ep.agent_acts("; ".join(task.outputs))
    return ep.score().reward


#: Every official split: retail's train (the one the issue measured), dev and test; airline has
#: no train split upstream, so its only one, test. (domain, split) -> (env id, task count).
SPLITS = {
    ("retail", "train"): ("proxmo/Retail-v0", 500),
    ("retail", "dev"): ("proxmo/Retail-v0", 20),
    ("retail", "test"): ("proxmo/Retail-v0", 115),
    ("airline", "test"): ("proxmo/Airline-v0", 50),
}


@pytest.mark.data
@pytest.mark.parametrize("quote_result", [False, True], ids=["plain", "quoting"])
@pytest.mark.parametrize("closing", sorted(CLOSINGS))
@pytest.mark.parametrize("split", sorted(SPLITS), ids="/".join)
def test_customer_ends_every_official_task_the_gold_actions_solve(
    tau_data: Path, split: tuple[str, str], closing: str, quote_result: bool
) -> None:
    env_id, count = SPLITS[split]
    env = proxmo_bench.make(env_id, source="official", data_dir=str(tau_data))
    dom = unwrapped(env).domain
    tasks = dom.tasks[split[1]]
    assert len(tasks) == count
    unsolved = [t.task_id for t in tasks if _gold_reward(dom, t) != 1.0]
    assert not unsolved, f"the gold actions alone do not reach reward 1 on {unsolved}"
    agent = ClosingGoldAgent(dom, CLOSINGS[closing], quote_result=quote_result)
    failed = []
    for task in tasks:
        info = run_episode(env, agent, task.task_id)
        # The expert ends with the gold transfer when there is one (see GoldActionAgent).
        transfers = any(a.name == "transfer_to_human_agents" for a in task.actions)
        ending = "transfer" if transfers else "user_stop"
        if info.get("termination") != ending or info["reward"] != 1.0 or info["truncated"]:
            failed.append((task.task_id, info.get("termination"), info["reward"], info["steps"]))
    assert not failed, f"{len(failed)} conversations did not end with reward 1: {failed[:10]}"
