"""A user-defined domain runs through the same env: toolkit + database + policy + tasks."""

from __future__ import annotations

from proxmo_bench.agents.experts.customer_service import GoldActionAgent
from proxmo_bench.envs.customer_service import (
    CustomerServiceEnv,
    Database,
    Domain,
    GoldAction,
    Task,
    ToolError,
    ToolKit,
    tool,
)

from .helpers_cs import DoNothingAgent


class LibraryTools(ToolKit):
    @tool()
    def find_book(self, title: str) -> str:
        """Return the id of a book from its exact title.

        Args:
            title: the book's title.
        """
        for book_id, book in self.db["books"].items():
            if book["title"] == title:
                return str(book_id)
        raise ToolError("book not found")

    @tool(writes=True)
    def renew_loan(self, book_id: str, weeks: int) -> str:
        """Extend a loan by some weeks.

        Args:
            book_id: the book's id.
            weeks: how many weeks to add (1-4).
        """
        if book_id not in self.db["books"]:
            raise ToolError("book not found")
        if not 1 <= weeks <= 4:
            raise ToolError("weeks must be between 1 and 4")
        book = self.db["books"].edit(book_id)
        book["due_week"] += weeks
        return f"due in week {book['due_week']}"


def _domain() -> Domain:
    books = {"b1": {"title": "Dune", "due_week": 10}, "b2": {"title": "Emma", "due_week": 3}}
    task = Task(
        "test/0",
        "reader_1",
        "Your user id is reader_1. You want to renew Dune for 2 weeks.",
        (
            GoldAction("find_book", {"title": "Dune"}),
            GoldAction("renew_loan", {"book_id": "b1", "weeks": 2}),
        ),
    )
    db = Database({"books": books}, "library-v1")
    return Domain("library", LibraryTools, db, "Renew loans on request.", {"test": [task]}, "mine")


def _play(env: CustomerServiceEnv, agent: GoldActionAgent | DoNothingAgent) -> bool:
    obs, info = env.reset(options={"task_id": "test/0"})
    agent.reset(obs, info)
    while True:
        obs, _, term, _, info = env.step(agent.act(obs, info))
        if term:
            return bool(info["won"])


def test_custom_domain_plays_like_the_built_in_ones() -> None:
    env = CustomerServiceEnv(domain=_domain(), split="test")
    assert {t["function"]["name"] for t in env.tools_schema} == {"find_book", "renew_loan"}
    assert _play(env, GoldActionAgent.for_env(env)) is True
    assert _play(env, DoNothingAgent()) is False
    env.reset(options={"task_id": "test/0"})
    _, _, _, _, info = env.step(
        '{"name": "renew_loan", "arguments": {"book_id": "b1", "weeks": 9}}'
    )
    assert info["action_valid"] is False
