"""The load suite as a program: `stockline bench load ARGS` parses and checks ARGS, then runs
this with the options in STOCKLINE_BENCH_LOAD_OPTIONS (JSON; see stockline/bench_cli.py).
Run by hand, `python bench/load ARGS` is handed to that command."""

import json
import os
import sys
from pathlib import Path

OPTIONS_VARIABLE = "STOCKLINE_BENCH_LOAD_OPTIONS"  # stockline.bench_cli's name for it

if OPTIONS_VARIABLE not in os.environ:
    os.execv(sys.executable, [sys.executable, "-m", "stockline.cli", "bench", "load", *sys.argv[1:]])  # noqa: S606

# Python put bench/load/ first on the path; the suite is the package `load` beside the
# benchmarks' shared helpers (harness), so their folder, bench/, goes there instead
sys.path[0] = str(Path(__file__).resolve().parents[1])
from load.run import LoadOptions, run  # noqa: E402

options = json.loads(os.environ.pop(OPTIONS_VARIABLE))  # not passed on to the server, Locust and pgbench
sys.exit(run(LoadOptions(**options | {"out_dir": options["out_dir"] and Path(options["out_dir"])})))
