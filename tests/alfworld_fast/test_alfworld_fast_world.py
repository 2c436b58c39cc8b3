"""The fast engine on an official game: texts and commands the TextWorld engine was seen to give.

Every expected string below was printed by the TextWorld engine (alfworld 0.4.2) on the same game.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proxmo_bench.envs.alfworld.engine import GameFileError, make_engine
from proxmo_bench.envs.alfworld.fast import FastEngine

pytestmark = pytest.mark.data


def test_intro_lists_every_receptacle_and_the_task(lamp_game: Path) -> None:
    engine = FastEngine()
    engine.load(lamp_game)
    state = engine.reset()
    assert state.obs == (
        "-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. Looking quickly "
        "around you, you see a bed 2, a bed 1, a desk 1, a drawer 11, a drawer 10, a drawer 9, a "
        "drawer 8, a drawer 7, a drawer 6, a drawer 5, a drawer 4, a drawer 3, a drawer 2, a "
        "drawer 1, a dresser 1, a garbagecan 1, a safe 1, a sidetable 2, and a sidetable 1.\n\n"
        "Your task is to: look at alarmclock under the desklamp."
    )
    assert state.admissible[:3] == ("go to bed 1", "go to bed 2", "go to desk 1")
    assert state.admissible[-2:] == ("inventory", "look")
    assert "help" not in state.admissible
    assert (state.won, state.done) == (False, False)


def test_walkthrough_wins_with_reference_texts(lamp_game: Path) -> None:
    engine = make_engine("fast")
    engine.load(lamp_game)
    engine.reset()
    s = engine.step("go to desk 1")
    assert s.obs == (
        "You arrive at desk 1. On the desk 1, you see a alarmclock 2, a book 1, a bowl 1, a cd 2, "
        "a desklamp 1, a mug 2, a mug 1, a pen 2, and a pen 1."
    )
    assert "use desklamp 1" in s.admissible and "examine desklamp 1" not in s.admissible
    assert engine.step("use desklamp 1").obs == "You turn on the desklamp 1."
    assert engine.step("look").obs == "You are facing the desk 1. Next to it, you see nothing."
    s = engine.step("take alarmclock 2 from desk 1")
    assert s.obs == "You pick up the alarmclock 2 from the desk 1."
    assert (s.won, s.done) == (True, True)
    assert "examine alarmclock 2" in s.admissible and "move alarmclock 2 to desk 1" in s.admissible
    assert engine.step("inventory").obs == "You are carrying: a alarmclock 2."
    s = engine.step("go to drawer 2")  # leaving the lamp: the goal no longer holds
    assert s.obs == "You arrive at drawer 2. The drawer 2 is closed."
    assert (s.won, s.done) == (False, False)
    assert engine.step("examine alarmclock 2").obs == "There's nothing special about alarmclock 2."


def test_shared_location_and_floor_quirks(lamp_game: Path) -> None:
    engine = FastEngine()
    engine.load(lamp_game)
    engine.reset()
    s = engine.step("go to drawer 7")
    # drawer 6 stands at drawer 7's location: it cannot be "gone to", only examined/opened.
    assert "go to drawer 6" not in s.admissible and "open drawer 6" in s.admissible
    assert engine.step("look").obs == (
        "You are facing the drawer 7, and drawer 6. Next to it, you see nothing."
    )
    assert engine.step("go to drawer 6").obs == "Nothing happens."
    assert engine.step("open drawer 7").obs == (
        "You open the drawer 7. The drawer 7 is open. In it, you see a creditcard 3."
    )
    assert engine.step("examine creditcard 3").obs == "Nothing happens."  # not in hand
    engine.step("take creditcard 3 from drawer 7")
    engine.step("open drawer 6")
    assert engine.step("move creditcard 3 to drawer 6").obs == (
        "You move the creditcard 3 to the drawer 6."
    )
    # Taken out of drawer 7 and left at the same spot: TextWorld lists it "next to" the drawers.
    assert engine.step("look").obs == (
        "You are facing the drawer 7, and drawer 6. Next to it, you see a creditcard 3."
    )
    assert engine.step("examine drawer 6").obs == (
        "The drawer 6 is open. In it, you see a cellphone 1, and a creditcard 3."
    )


def test_commands_are_stripped_case_sensitive_and_never_raise(lamp_game: Path) -> None:
    engine = FastEngine()
    engine.load(lamp_game)
    start = engine.reset()
    for junk in ("", "   ", "Look", "xyzzy", "go to", "\x00", "☃" * 1000):
        s = engine.step(junk)
        assert s.obs == "Nothing happens."
        assert s.admissible == start.admissible
    assert engine.step("  look \n").obs.startswith("You are in the middle of a room.")
    assert engine.step("help").obs.startswith("Available commands:\n  look:")


def test_reset_restores_the_initial_state(lamp_game: Path) -> None:
    engine = FastEngine()
    engine.load(lamp_game)
    first = engine.reset()
    engine.step("go to desk 1")
    engine.step("take alarmclock 2 from desk 1")
    assert engine.reset() == first


def test_bad_files_name_the_file_and_field(lamp_game: Path, tmp_path: Path) -> None:
    engine = FastEngine()
    with pytest.raises(GameFileError, match="not found"):
        engine.load(tmp_path / "missing.tw-pddl")
    data = json.loads(lamp_game.read_text())
    data["pddl_domain"] = data["pddl_domain"].replace("(isClean ?o)", "(isHot ?o)")
    other = tmp_path / "other_domain.tw-pddl"
    other.write_text(json.dumps(data))
    with pytest.raises(GameFileError, match=r"other_domain\.tw-pddl.*'pddl_domain'"):
        engine.load(other)
    data = json.loads(lamp_game.read_text())
    data["pddl_problem"] = data["pddl_problem"].replace("(:goal", "(:gaol")
    broken = tmp_path / "broken.tw-pddl"
    broken.write_text(json.dumps(data))
    with pytest.raises(GameFileError, match=r"broken\.tw-pddl.*'pddl_problem'"):
        engine.load(broken)
