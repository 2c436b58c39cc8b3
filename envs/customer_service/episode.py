"""One conversation's state on the agent side: the task, its database copy and the agent's
messages. Shared by the gymnasium view (customer inside) and the PettingZoo view (customer as a
second player)."""

from __future__ import annotations

from dataclasses import dataclass

from proxmo_bench.envs.customer_service.domain import Domain
from proxmo_bench.envs.customer_service.reward import RewardResult, evaluate
from proxmo_bench.envs.customer_service.task import Task
from proxmo_bench.envs.customer_service.tool_call import ToolCall, parse_action


@dataclass(frozen=True)
class AgentTurn:
    """What one agent action did.

    Attributes:
        message: the text sent to the customer, or None for a tool call / unusable action.
        obs: the agent's observation when the action does not go to the customer (tool result or
            error); None for a message.
        valid: the action was understood and the tool accepted it.
        transfer: a successful ``transfer_to_human_agents`` call (ends the episode).
    """

    message: str | None
    obs: str | None
    valid: bool
    transfer: bool = False


class Episode:
    """The agent side of one episode of ``task`` on a fresh copy of ``domain``'s database."""

    def __init__(self, domain: Domain, task: Task) -> None:
        self.domain = domain
        self.task = task
        self.db = domain.db.fresh()
        self.kit = domain.toolkit(self.db)
        self.agent_messages: list[str] = []

    def agent_acts(self, action: str) -> AgentTurn:
        """Apply one agent action (never raises)."""
        parsed = parse_action(action)
        if isinstance(parsed, ToolCall):
            if parsed.problem:
                return AgentTurn(
                    None,
                    f"Error: {parsed.problem}. A tool call is "
                    '{"name": "<tool>", "arguments": {...}}.',
                    False,
                )
            result, ok = self.kit.invoke(parsed.name, parsed.arguments)
            spec = self.kit.specs().get(parsed.name)
            transfer = ok and spec is not None and spec.terminal
            return AgentTurn(None, f"Tool {parsed.name} returned: {result}", ok, transfer)
        if not parsed.content:
            return AgentTurn(
                None,
                "Empty message: write text for the customer, or call a tool with "
                '{"name": ..., "arguments": {...}}.',
                False,
            )
        self.agent_messages.append(parsed.content)
        return AgentTurn(parsed.content, None, True)

    def score(self) -> RewardResult:
        """The tau-bench reward of the episode as it stands."""
        return evaluate(self.domain, self.task, self.db, self.agent_messages)

    def anchor(self, obs: str) -> str:
        """The state without history: the latest observation and the database digest."""
        return f"{obs} | db {self.db.digest()[:16]}"
