"""Playing a task in the terminal: the loop behind ``proxmo-bench play``.

A person types an action, or the number of an admissible action. Only what reaches the env uses a
step: an empty line, a number outside the list, an unknown ``:command`` or a malformed tool call
is answered and asked again. Every text from the env or the player is printed literally (rich
markup escaped: WebShop's ``click[b0cm2w2kbc]`` stays as it is). A customer-service policy is
printed once, at the start (``:policy`` shows it again). When the episode ends, the outcome is
said in words: solved, step limit, or ended without success, with the score.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium
from rich.console import Console
from rich.markup import escape

#: Where a customer-service instruction's policy starts (``agent_instruction``).
POLICY_HEADING = "\n\n# Policy\n\n"
#: The placeholder of a template action (WebShop's ``search[<query>]``).
QUERY_PLACEHOLDER = "<query>"

HELP = (
    "Type an action, or the number of one listed. Commands: ':q' quits, ':r' restarts, "
    "':policy' shows the task (and its policy), ':send TEXT' sends TEXT as it is, ':h' this help."
)


@dataclass
class Outcome:
    """How a played episode ended (``how``: ``"won"``, ``"step_limit"``, ``"failure"``,
    ``"quit"``); ``steps`` actions sent to the env, ``score`` in [0, 1], ``total`` the return."""

    how: str
    steps: int
    score: float
    total: float


def split_policy(instruction: str) -> tuple[str, str | None]:
    """``(task, policy)``: the instruction before its ``# Policy`` section, and that section
    (``None`` when it has none)."""
    head, sep, policy = instruction.partition(POLICY_HEADING)
    return (head, policy) if sep else (instruction, None)


def tool_call_problem(text: str, tool_names: list[str]) -> str | None:
    """Why ``text``, which looks like a tool call (a ``{`` object, alone or in
    ``<action>...</action>``), is not a well-formed call of one of ``tool_names``; ``None`` when it
    is one, or does not look like a call at all (then it is a message to the customer)."""
    body = text
    start, end = text.find("<action>"), text.find("</action>")
    if start >= 0 and end > start:
        body = text[start + len("<action>") : end]
    body = body.strip()
    if not body.startswith("{"):
        return None
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return f"it is not valid JSON ({exc})"
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        return 'a tool call is a JSON object with a string "name"'
    if tool_names and obj["name"] not in tool_names:
        return f"there is no tool {obj['name']!r}; tools: {', '.join(tool_names)}"
    extra = sorted(set(obj) - {"name", "arguments"})
    if extra:
        return f'a tool call has only "name" and "arguments"; got also {extra}'
    if not isinstance(obj.get("arguments", {}), dict):
        return '"arguments" must be a JSON object'
    return None


def _tool_names(info: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for tool in info.get("tools") or []:
        if isinstance(tool, dict):
            fn = tool.get("function", tool)
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                names.append(fn["name"])
    return names


class TerminalGame:
    """One task played by a person: ``run()`` until the episode ends or they quit.

    Args:
        env: the task (string observations and actions, the info contract).
        console: where everything is printed.
        read_line: reads one line after printing its prompt (``input``); ``EOFError`` quits.
        max_steps: the task's step limit (for the counter), or ``None``.
        seed, options: passed to every ``reset``.
    """

    def __init__(
        self,
        env: gymnasium.Env[str, str],
        *,
        console: Console,
        read_line: Callable[[str], str] = input,
        max_steps: int | None = None,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.env, self.console, self.read_line = env, console, read_line
        self.max_steps, self.seed, self.options = max_steps, seed, options
        self.info: dict[str, Any] = {}
        self.steps = 0
        self.total = 0.0

    # ---- printing ------------------------------------------------------------------------------
    def say(self, text: str, style: str | None = None) -> None:
        """Print ``text`` literally (no markup, no highlighting), in ``style``."""
        self.console.print(text, style=style, markup=False, highlight=False)

    def show_task(self, *, with_policy: bool) -> None:
        task, policy = split_policy(str(self.info["instruction"]))
        self.console.print("[bold]Task:[/bold] " + escape(task), highlight=False)
        if policy is not None and with_policy:
            self.console.rule("Policy")
            self.say(policy)
            self.console.rule()

    def show_actions(self) -> None:
        for i, action in enumerate(self.admissible(), 1):
            self.console.print(f"  [cyan]{i:>2}[/cyan] {escape(action)}", highlight=False)

    def show_status(self) -> None:
        if self.max_steps is None:
            self.console.print(f"[dim]step {self.steps + 1}[/dim]", highlight=False)
        else:
            left = self.max_steps - self.steps
            self.console.print(
                f"[dim]step {self.steps + 1} of {self.max_steps} ({left} left)[/dim]",
                highlight=False,
            )

    def admissible(self) -> list[str]:
        return list(self.info.get("admissible_actions") or [])

    # ---- the game ------------------------------------------------------------------------------
    def start(self) -> str:
        obs, self.info = self.env.reset(seed=self.seed, options=self.options)
        self.steps, self.total = 0, 0.0
        self.console.rule(escape(f"{self.info['task_id']}  ({self.info['task_category']})"))
        self.show_task(with_policy=True)
        self.say("")
        return obs

    def run(self) -> Outcome:
        self.say(self.start())
        self.console.print(f"[dim]{escape(HELP)}[/dim]", highlight=False)
        while True:
            self.show_actions()
            self.show_status()
            action = self.next_action()
            if action is None:
                return Outcome("quit", self.steps, float(self.info["score"]), self.total)
            if action == ":r":
                self.say(self.start())
                continue
            obs, reward, terminated, truncated, self.info = self.env.step(action)
            self.steps += 1
            self.total += float(reward)
            self.say(obs)
            if not self.info["action_valid"]:
                self.console.print("[yellow](invalid action)[/yellow]")
            if terminated or truncated:
                return self.finish(bool(truncated) and not bool(terminated))

    def finish(self, truncated: bool) -> Outcome:
        score = float(self.info["score"])
        numbers = f"score {score:.2f}, return {self.total:g}, {self.steps} steps"
        if self.info["won"]:
            how, text = "won", f"[green]Won[/green]: the task is solved ({numbers})."
        elif truncated:
            how = "step_limit"
            text = (
                f"[red]Step limit[/red]: all {self.steps} steps used without solving the task "
                f"({numbers})."
            )
        else:
            how = "failure"
            partial = " (partly right)" if 0.0 < score < 1.0 else ""
            text = f"[red]Not solved[/red]: the episode ended without success{partial} ({numbers})."
        self.console.print("Episode over. " + text, highlight=False)
        return Outcome(how, self.steps, score, self.total)

    def next_action(self) -> str | None:
        """The next action to send (``":r"`` to restart), or ``None`` to quit; asks again on
        anything that would not reach the env as meant, without using a step."""
        while True:
            try:
                line = self.read_line("> ").strip()
            except EOFError:
                return None
            action = self.interpret(line)
            if action is not None or line in (":q", ":quit"):
                return action

    def interpret(self, line: str) -> str | None:
        """The action ``line`` asks for; ``None`` (with a message) when there is none to send."""
        adm = self.admissible()
        if not line:
            self.say("(nothing sent: type an action, a number from the list, or :h for help)")
            return None
        if line.startswith(":"):
            return self.command(line)
        if line.isdigit() and adm:
            n = int(line)
            if not 1 <= n <= len(adm):
                self.say(f"(nothing sent: choose a number from 1 to {len(adm)})")
                return None
            line = adm[n - 1]
        if QUERY_PLACEHOLDER in line:
            query = self.read_query()
            if query is None:
                return None
            line = line.replace(QUERY_PLACEHOLDER, query)
        if "tools" in self.info:
            problem = tool_call_problem(line, _tool_names(self.info))
            if problem is not None:
                self.say(
                    f"(nothing sent: this looks like a tool call but {problem}. A call is "
                    '{"name": "<tool>", "arguments": {...}}; :send TEXT sends it to the customer '
                    "as a message)",
                    style="yellow",
                )
                return None
        return line

    def read_query(self) -> str | None:
        try:
            query = self.read_line("search for: ").strip()
        except EOFError:
            return None
        if not query:
            self.say("(nothing sent: a search needs words)")
            return None
        return query

    def command(self, line: str) -> str | None:
        name, _, rest = line.partition(" ")
        if name in (":q", ":quit"):
            return None
        if name == ":r":
            return ":r"
        if name == ":policy":
            self.show_task(with_policy=True)
            if split_policy(str(self.info["instruction"]))[1] is None:
                self.say("(this task has no policy)")
            return None
        if name == ":send":
            if not rest.strip():
                self.say("(nothing sent: :send needs the text to send)")
                return None
            return rest
        if name not in (":h", ":help"):
            self.say(f"(unknown command {name}; nothing sent)")
        self.say(HELP)
        return None
