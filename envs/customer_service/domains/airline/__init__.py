"""Airline domain: tools, tau-bench's data, and our own generated airline."""

from proxmo_bench.envs.customer_service.domains.airline.tools import AirlineTools

__all__ = ["AirlineTools"]
