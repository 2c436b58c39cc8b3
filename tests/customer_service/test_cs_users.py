from __future__ import annotations

from typing import Any

import proxmo_bench
from proxmo_bench.envs.customer_service.task import Task
from proxmo_bench.envs.customer_service.users import STOP_TOKEN, LLMUser, ReplayUser, ScriptedUser
from proxmo_bench.envs.customer_service.users.scripted import first_person, parse_instruction

TRAIN_STYLE = (
    "Your name is Omar Anderson and your zip code is 19031. You are logical, independent, "
    "relaxing, polite. Return #W6067464 via credit_card_4190576: Electric Kettle; Wall Clock; "
    "Cancel order #W5765741 because ordered by mistake. "
)


def _task(instruction: str) -> Task:
    return Task("train/0", "omar_anderson_3203", instruction, ())


def test_parse_train_template() -> None:
    script = parse_instruction(TRAIN_STYLE)
    assert script.identity == "My name is Omar Anderson and my zip code is 19031."
    assert script.requests == (
        "Return #W6067464 via credit_card_4190576: Electric Kettle; Wall Clock;",
        "Cancel order #W5765741 because ordered by mistake.",
    )
    email = parse_instruction(
        "Your name is Li Wu and your email is li.wu9@example.com. You are shy. "
        "Cancel order #W1 because no longer needed."
    )
    assert email.identity == "My name is Li Wu and my email is li.wu9@example.com."
    uid = parse_instruction("Your user id is mia_li_3668. You want to fly to Seattle.")
    assert uid.identity == "My user id is mia_li_3668." and uid.requests == (
        "I want to fly to Seattle.",
    )
    assert (
        first_person("You've ordered your lamp; you are sure.")
        == "I've ordered my lamp; I am sure."
    )


def test_scripted_user_dialogue() -> None:
    user = ScriptedUser()
    assert (
        user.reset(_task(TRAIN_STYLE)) == "Hi! My name is Omar Anderson and my zip code is 19031."
    )
    assert user.respond("Could you give me your email or zip code?").startswith("My name is Omar")
    assert user.respond("How can I help?").startswith("Return #W6067464")
    assert user.respond("Please confirm (yes/no).") == "Yes, please go ahead."
    assert user.respond("Done. Anything else?").startswith("Cancel order #W5765741")
    for _ in range(2):
        assert user.respond("Shall I proceed?") == "Yes, please go ahead."
    reply = user.respond("Shall I proceed?")  # a third confirmation request is not answered
    assert STOP_TOKEN in reply
    assert STOP_TOKEN in user.respond("Anything else?")


def test_llm_user_is_a_thin_wrapper_over_generate() -> None:
    seen: list[list[dict[str, str]]] = []

    def generate(messages: list[dict[str, str]]) -> str:
        seen.append(messages)
        return STOP_TOKEN if len(messages) > 3 else "I want to cancel order #W1."

    user = LLMUser(generate, model_id="stub", temperature=0.0, seed=7)
    assert user.name == "llm:stub:temperature=0.0:seed=7"
    assert user.reset(_task(TRAIN_STYLE)) == "I want to cancel order #W1."
    assert seen[0][0]["role"] == "system" and TRAIN_STYLE in seen[0][0]["content"]
    assert [m["role"] for m in seen[0][1:]] == ["user"]
    assert user.respond("Sure, which reason?") == STOP_TOKEN
    assert [m["role"] for m in seen[1][1:]] == ["user", "assistant", "user"]


def test_env_records_the_user_simulator_and_replays_a_conversation() -> None:
    def generate(messages: list[dict[str, Any]]) -> str:
        return "Thanks, bye " + STOP_TOKEN if len(messages) > 2 else "Hello, I need help."

    env = proxmo_bench.make("proxmo/Retail-v0", user=LLMUser(generate, model_id="stub"))
    obs, info = env.reset(seed=0)
    assert obs == "Customer: Hello, I need help." and info["user_simulator"].startswith("llm:stub")
    obs, reward, term, _, info = env.step("How can I help?")
    assert term and info["termination"] == "user_stop" and reward == 0.0

    recorded = ["Hi, I am Ana.", "Cancel it please.", "Yes."]
    env = proxmo_bench.make("proxmo/Retail-v0", user=lambda: ReplayUser(recorded))
    obs, info = env.reset(seed=1)
    assert obs == "Customer: Hi, I am Ana." and info["user_simulator"] == "replay:3"
    assert env.step("hello")[0] == "Customer: Cancel it please."
    assert env.step("ok")[0] == "Customer: Yes."
    obs, _, term, _, _ = env.step("ok")
    assert term and STOP_TOKEN in obs
