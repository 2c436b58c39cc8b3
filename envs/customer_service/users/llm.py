"""An LLM-backed customer: any ``generate(messages) -> str`` callable plays the customer.

The class is thin on purpose: it builds the customer's chat (a system prompt with the hidden
instruction, the agent's messages as the other party) and calls ``generate``; the backend (this
project's agents, an OpenAI-compatible endpoint, a stub in tests) does the sampling. The sampling
settings are pinned by whoever builds the backend and recorded in ``name``.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable

from proxmo_bench.envs.customer_service.task import Task
from proxmo_bench.envs.customer_service.users.base import STOP_TOKEN

ChatMessages = list[dict[str, str]]
Generate = Callable[[ChatMessages], str]

_RULES = f"""Rules:
- Write one message at a time, as the customer would.
- Reveal only what the agent needs for the current step, not the whole instruction at once.
- Never invent facts that the instruction does not give: if you do not know something (an order
  id, a date), say you do not have it.
- When everything in the instruction is done, reply with {STOP_TOKEN} alone.
- Use your own words rather than repeating the instruction, and keep the persona it describes."""


def customer_system_prompt(instruction: str) -> str:
    """The system prompt that gives the model its role and hidden instruction."""
    role = "You are a customer talking to a customer-service agent."
    return f"{role}\n\nInstruction: {instruction}\n\n{_RULES}"


class LLMUser:
    """A customer played by a language model.

    Args:
        generate: called with the chat so far (``[{"role", "content"}]``, the customer being the
            ``assistant``); returns the customer's next message.
        model_id: what the backend is (recorded).
        temperature, seed: the sampling settings the backend was pinned to (recorded).
    """

    def __init__(
        self,
        generate: Generate,
        *,
        model_id: str = "custom",
        temperature: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.generate = generate
        self.name = f"llm:{model_id}:temperature={temperature}:seed={seed}"
        self.messages: ChatMessages = []

    def reset(self, task: Task) -> str:
        self.messages = [
            {"role": "system", "content": customer_system_prompt(task.instruction)},
            {"role": "user", "content": "Hi! How can I help you today?"},
        ]
        return self._next()

    def respond(self, message: str) -> str:
        self.messages.append({"role": "user", "content": message})
        return self._next()

    def _next(self) -> str:
        reply = str(self.generate(list(self.messages)))
        self.messages.append({"role": "assistant", "content": reply})
        return reply


def openai_compatible_generate(
    base_url: str,
    model: str,
    *,
    temperature: float = 0.0,
    seed: int = 0,
    max_tokens: int = 256,
    api_key: str | None = None,
    timeout_s: float = 60.0,
) -> Generate:
    """A ``generate`` callable for an OpenAI-compatible ``/chat/completions`` endpoint, with the
    sampling pinned (temperature, seed, max tokens). Uses only the standard library."""
    url = base_url.rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"

    def generate(messages: ChatMessages) -> str:
        body = {
            "model": model,
            "messages": messages,
            "temperature": temperature,
            "seed": seed,
            "max_tokens": max_tokens,
        }
        req = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            data = json.loads(resp.read())
        return str(data["choices"][0]["message"]["content"])

    return generate
