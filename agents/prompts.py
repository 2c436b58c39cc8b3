"""Per-family prompts for the LLM agent, shaped like the published GiGPO/ProxMO recipes.

A prompt holds: what kind of environment this is, the task, how many steps were taken and the last
``k`` observation/action pairs, the current observation, the admissible actions (when the env lists
them) and the answer format ``<think>...</think><action>...</action>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from proxmo_bench.batch_policy import StepContext


@dataclass(frozen=True)
class FamilyPrompt:
    """The family-specific parts of a prompt."""

    intro: str
    action_hint: str
    #: An action shown inside the answer skeleton (small models copy the skeleton, so it must be
    #: a real action); "" uses the first admissible action.
    example_action: str = ""


_GENERIC = FamilyPrompt(
    intro="You are an agent acting in a text environment.",
    action_hint="choose one admissible action",
)

FAMILY_PROMPTS: dict[str, FamilyPrompt] = {
    "keyroom": FamilyPrompt(
        intro="You are an agent exploring a small house described in text.",
        action_hint="choose one admissible action",
        example_action="look",
    ),
    "alfworld": FamilyPrompt(
        intro="You are an expert household agent in the ALFRED text world (TextWorld).",
        action_hint="choose one admissible action",
        example_action="look",
    ),
    "webshop": FamilyPrompt(
        intro=(
            "You are a shopping agent on a web store. Search with search[query] and press "
            "buttons with click[button]."
        ),
        action_hint="choose one admissible action (search[...] or click[...])",
        example_action="search[red cotton t-shirt]",
    ),
    "retail": FamilyPrompt(
        intro=(
            "You are a customer-service agent for a retail store. Follow the policy. Call a tool "
            'with a JSON object {"name": ..., "arguments": {...}}; any other text is a message '
            "to the customer."
        ),
        action_hint="write one tool call or one message to the customer",
    ),
    "airline": FamilyPrompt(
        intro=(
            "You are a customer-service agent for an airline. Follow the policy. Call a tool "
            'with a JSON object {"name": ..., "arguments": {...}}; any other text is a message '
            "to the customer."
        ),
        action_hint="write one tool call or one message to the customer",
    ),
}


def family_of(task: str) -> str:
    """``"proxmo/ALFWorld-v0"`` -> ``"alfworld"`` (lower-cased name without namespace and version)."""
    name = task.rsplit("/", 1)[-1]
    return re.sub(r"-v\d+$", "", name).lower()


def family_prompt(task: str) -> FamilyPrompt:
    """The prompt parts for ``task``'s family (a generic one for unknown families)."""
    return FAMILY_PROMPTS.get(family_of(task), _GENERIC)


def render_prompt(ctx: StepContext, history_length: int = 2, max_obs_chars: int = 2000) -> str:
    """The user message for one step (see the module docstring for its parts)."""
    fam = family_prompt(ctx.task)
    lines = [fam.intro, f"Your task is: {ctx.instruction}"]
    recent = ctx.history[-history_length:] if history_length > 0 else ()
    if ctx.step == 0 or not recent:
        lines.append("This is your first step.")
    else:
        first = ctx.step - len(recent) + 1
        lines.append(
            f"You have already taken {ctx.step} step(s). Your last {len(recent)} observation(s) "
            "and the action you took after each:"
        )
        for i, (obs, action) in enumerate(recent, start=first):
            lines.append(f"[Observation {i}: {obs[:max_obs_chars]}]")
            lines.append(f"[Action {i}: {action}]")
    lines.append(
        f"You are now at step {ctx.step + 1}. Current observation: {ctx.obs[:max_obs_chars]}"
    )
    adm = ctx.admissible_actions
    if adm is not None:
        lines.append("Admissible actions: [" + ", ".join(f"'{a}'" for a in adm) + "]")
    lines.append(
        "First reason briefly about the situation inside <think> </think>. Then "
        f"{fam.action_hint} and write it inside <action> </action>."
    )
    # Small models rarely produce the tags from the description alone and copy a skeleton of the
    # answer verbatim, so the skeleton carries a real action rather than a placeholder.
    example = fam.example_action or (adm[0] if adm else "")
    if example:
        lines.append(
            f"Answer in exactly this form, with your own reasoning and action: "
            f"<think>...</think><action>{example}</action>"
        )
    return "\n".join(lines)
