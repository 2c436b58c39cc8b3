"""Safe arithmetic for the ``calculate`` tool: numbers, + - * /, parentheses; nothing else.

Upstream evaluates the expression with ``eval`` after a character check, which still lets ``**``
through (``9**9**9`` hangs the process); here the expression is parsed and only the four
operations are evaluated.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

_ALLOWED_CHARS = frozenset("0123456789+-*/(). ")
_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def calculate(expression: str) -> str:
    """The value rounded to 2 decimals as text, or ``"Error: ..."`` (never raises)."""
    if not all(ch in _ALLOWED_CHARS for ch in expression):
        return "Error: invalid characters in expression"
    if len(expression) > 1000:
        return "Error: expression too long"
    try:
        tree = ast.parse(expression.strip(), mode="eval")
        value = _eval(tree.body)
        return str(round(float(value), 2))
    except ZeroDivisionError:
        return "Error: division by zero"
    except (SyntaxError, ValueError, OverflowError, RecursionError) as exc:
        return f"Error: {type(exc).__name__}: {exc}"


def _eval(node: ast.expr) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_eval(node.left), _eval(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        v = _eval(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    raise ValueError("only numbers, + - * / and parentheses are allowed")
