"""`python bench/load ARGS` runs `stockline bench load ARGS`."""

import sys

from stockline.bench_cli import main

sys.exit(main())
