"""``python -m proxmo_bench ...`` = ``proxmo-bench ...``."""

from proxmo_bench.cli import main

main()
