"""Tools every customer-service domain offers: arithmetic, a thinking step, the human hand-off."""

from __future__ import annotations

from proxmo_bench.envs.customer_service.calculator import calculate as _calculate
from proxmo_bench.envs.customer_service.toolkit import ToolKit, tool


class CommonTools(ToolKit):
    """Base toolkit of the built-in domains (upstream gives retail and airline the same three)."""

    @tool()
    def calculate(self, expression: str) -> str:
        """Evaluate an arithmetic expression and return the result rounded to 2 decimals.

        Args:
            expression: numbers combined with +, -, *, / and parentheses, e.g. '(12.5 + 3) * 2'.
        """
        return _calculate(expression)

    @tool()
    def think(self, thought: str) -> str:
        """Write down a reasoning step; nothing is looked up or changed.

        Args:
            thought: the reasoning to record.
        """
        return ""

    @tool(terminal=True)
    def transfer_to_human_agents(self, summary: str) -> str:
        """Hand the conversation to a human agent and end it.

        Only for requests the policy does not allow you to handle, or when the customer asks for
        a human explicitly.

        Args:
            summary: a short summary of the customer's issue for the human agent.
        """
        return "Transfer successful"
