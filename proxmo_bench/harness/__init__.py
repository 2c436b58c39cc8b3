"""Benchmark harness: evaluation on held-out splits, side-by-side estimator runs, statistics, plots.

Modules: :mod:`~proxmo_bench.leaderboard.intervals` (bootstrap intervals, paired differences),
:mod:`~proxmo_bench.harness.evaluate` (agent -> episode records), :mod:`~proxmo_bench.harness.bench`
(estimators x tasks x seeds, submissions, learning curves), :mod:`~proxmo_bench.harness.quickstart`.
Nothing is imported here, so importing one module does not pull the others (or torch).
"""
