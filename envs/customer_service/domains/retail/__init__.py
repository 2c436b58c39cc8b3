"""Retail domain: tools, tau-bench's data, and our own generated shop."""

from proxmo_bench.envs.customer_service.domains.retail.tools import RetailTools

__all__ = ["RetailTools"]
