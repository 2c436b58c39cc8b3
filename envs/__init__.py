"""Environment families, importable as ``proxmo_bench.envs.<family>``."""
