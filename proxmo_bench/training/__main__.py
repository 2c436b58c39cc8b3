"""``python -m proxmo_bench.training`` = ``proxmo-bench train``."""

from proxmo_bench.training.cli import main

raise SystemExit(main())
