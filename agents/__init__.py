"""Agents, importable as ``proxmo_bench.agents``."""
