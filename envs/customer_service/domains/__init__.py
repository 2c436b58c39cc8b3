"""The built-in domains: ``retail`` and ``airline`` (each: tools, data loading, generator)."""
