"""A deterministic customer that says only what its instruction contains.

The instruction is read as: an identity sentence ("Your name is X and your zip code is Z." /
"... your email is E." / "Your user id is U."), a persona ("You are calm, polite."), which is
dropped, then the requests, one per sentence. The customer opens with its identity, then answers
each agent message in turn:

1. a closing question ("anything else?", "is that all?") -> the agent reports the request done:
   the next request, or thanks and the stop token when every request has been said. This comes
   first, so a completion report that also quotes a record (an address with its zip, an email) or
   offers more help ("would you like me to help with anything else?") is not taken for an
   identity question or a confirmation request, which would restate the identity or say yes
   instead of moving on;
2. a question about identity (name, zip, email, user id) -> the identity again;
3. a request for confirmation ("confirm", "proceed", "yes/no", ...) -> "Yes, please go ahead."
   (at most twice per request, so an agent that keeps asking cannot stall the conversation);
4. otherwise the next request not yet said;
5. when every request has been said -> thanks and the stop token.

Retail train instructions follow exactly this template; free-form instructions (retail test/dev,
airline) work the same way sentence by sentence, with "you/your" turned into "I/my".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from proxmo_bench.envs.customer_service.task import Task
from proxmo_bench.envs.customer_service.users.base import STOP_TOKEN

_IDENTITY = (
    re.compile(
        r"^Your name is (?P<name>[^.]+?) and your (?P<kind>zip code|email) is "
        r"(?P<value>\S+?)\.(?:\s|$)"
    ),
    re.compile(r"^Your user id is (?P<value>[\w.-]+?)\.?(?:\s|$)"),
)
# Each word is followed by exactly one separator, so the match is linear (no backtracking blow-up).
_PERSONA = re.compile(r"^You are [a-z-]+(?:(?:, |,? and )[a-z-]+)*\.\s*")
# Sentences end at . ! ?; the train template also ends a return request with "; ", so a
# semicolon followed by a request verb ends a request too.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])\s+(?=[A-Z#])|(?<=;)\s+(?=(?:Return|Cancel|For|Exchange|Modify|Change)\b)"
)
# What the agent's message asks, by keywords matched case-insensitively. An ASCII message (the
# usual case) is lowercased and searched case-sensitively: sre then skips ahead by the keywords'
# first letters instead of trying every alternative at every word boundary (~10x faster on a long
# message), with the same matches, since on ASCII text re.IGNORECASE equates only a letter's two
# cases. Other messages go through the re.IGNORECASE patterns.
_CONFIRMATION_WORDS = (
    r"\b(confirm|proceed|go ahead|yes or no|yes/no|shall i|should i|do you want me"
    r"|would you like me)\b"
)
_IDENTITY_WORDS = r"\b(your (full )?name|zip|email|user id|identify|authenticate|verify your)\b"
_CLOSING_WORDS = (
    r"\b(anything else|anything more|something else|nothing else|is that all|that be all)\b"
)
_ASKS_CLOSING = (re.compile(_CLOSING_WORDS), re.compile(_CLOSING_WORDS, re.I))
_ASKS_CONFIRMATION = (re.compile(_CONFIRMATION_WORDS), re.compile(_CONFIRMATION_WORDS, re.I))
_ASKS_IDENTITY = (re.compile(_IDENTITY_WORDS), re.compile(_IDENTITY_WORDS, re.I))


def _asks(patterns: tuple[re.Pattern[str], re.Pattern[str]], message: str) -> bool:
    if message.isascii():
        return patterns[0].search(message.lower()) is not None
    return patterns[1].search(message) is not None


def asks_confirmation(message: str) -> bool:
    """Whether ``message`` asks for a confirmation ("confirm", "proceed", "yes/no", ...)."""
    return _asks(_ASKS_CONFIRMATION, message)


def asks_closing(message: str) -> bool:
    """Whether ``message`` asks if anything else is needed (the agent considers its work done)."""
    return _asks(_ASKS_CLOSING, message)


def asks_identity(message: str) -> bool:
    """Whether ``message`` asks who the customer is (name, zip, email, user id, ...)."""
    return _asks(_ASKS_IDENTITY, message)


_PRONOUNS = (
    (re.compile(r"\byou are\b"), "I am"),
    (re.compile(r"\bYou are\b"), "I am"),
    (re.compile(r"\byou're\b", re.IGNORECASE), "I'm"),
    (re.compile(r"\byou've\b", re.IGNORECASE), "I've"),
    (re.compile(r"\byou'd\b", re.IGNORECASE), "I'd"),
    (re.compile(r"\byou'll\b", re.IGNORECASE), "I'll"),
    (re.compile(r"\byourself\b", re.IGNORECASE), "myself"),
    (re.compile(r"\bYour\b"), "My"),
    (re.compile(r"\byour\b"), "my"),
    (re.compile(r"\bYou\b"), "I"),
    (re.compile(r"\byou\b"), "I"),
)
MAX_CONFIRMATIONS = 2


def first_person(text: str) -> str:
    """Turn the instruction's second person into the customer's first person."""
    for pattern, repl in _PRONOUNS:
        text = pattern.sub(repl, text)
    return text


@dataclass(frozen=True)
class Script:
    """What the customer will say: its identity and its requests in order."""

    identity: str | None
    requests: tuple[str, ...]


def parse_instruction(instruction: str) -> Script:
    """Split an instruction into the identity sentence and the request sentences."""
    text = " ".join(instruction.split())
    identity: str | None = None
    for pattern in _IDENTITY:
        m = pattern.match(text)
        if m:
            if "kind" in m.groupdict():
                identity = f"My name is {m['name']} and my {m['kind']} is {m['value']}."
            else:
                identity = f"My user id is {m['value']}."
            text = text[m.end() :].lstrip()
            break
    text = _PERSONA.sub("", text, count=1)
    requests = tuple(first_person(s.strip()) for s in _SENTENCE_END.split(text) if s.strip())
    return Script(identity, requests)


class ScriptedUser:
    """The scripted customer (default for training and CI); see the module docstring."""

    name = "scripted"

    def __init__(self) -> None:
        self.script = Script(None, ())
        self._said = 0
        self._confirmations = 0

    def reset(self, task: Task) -> str:
        self.script = parse_instruction(task.instruction)
        self._said = 0
        self._confirmations = 0
        if self.script.identity:
            return f"Hi! {self.script.identity}"
        return "Hi! " + self._next_request()

    def respond(self, message: str) -> str:
        if asks_closing(message):
            return self._next_request()
        if self.script.identity and asks_identity(message):
            return self.script.identity
        if self._said and self._confirmations < MAX_CONFIRMATIONS and asks_confirmation(message):
            self._confirmations += 1
            return "Yes, please go ahead."
        if self._said < len(self.script.requests):
            return self._next_request()
        return f"That's all I needed, thank you! {STOP_TOKEN}"

    def _next_request(self) -> str:
        if self._said >= len(self.script.requests):
            return f"That's all I needed, thank you! {STOP_TOKEN}"
        request = self.script.requests[self._said]
        self._said += 1
        self._confirmations = 0
        return request
