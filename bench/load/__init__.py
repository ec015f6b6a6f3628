"""The load suite behind `stockline bench load`: from nothing to a readable report.

    stockline bench load [--users 500] [--duration 3m] [--workers 2]
    .venv/bin/python bench/load --users 500 --duration 5m      # the same thing

Steps (each prints a progress line):
1. a fresh database (`stockline_load_<hex>` on DATABASE_URL's server, or the embedded one),
   seeded with the seed procedure's sizes (SCALE_* override them), pricing rules, a
   `cust_<id>` login per customer and a staff login;
2. `stockline serve --workers N` on it (BENCH_ENDPOINTS=1, so /bench/bare is served);
3. three phases:
   - bare capacity: /bench/bare flat out (no think time), the app's ceiling, on wrk;
   - the mix: Locust, headless (bench/locustfile.py): `--users` virtual users (customers
     and a few staff) with think time, plus a few probes sampling /bench/bare under the
     same load; its steady state starts once every user has signed in and lasts
     `--duration`;
   - order capacity: customers filling a 3-line cart and checking out, flat out, on wrk
     (capacity.lua: one signed-in customer per wrk thread and connection; wrk.py);
   the capacity phases measure the server, not the client: wrk costs a few per cent of
   the machine where Locust took a fifth of it. Each phase reports the client's CPU and
   its share of the machine's busy CPU. Without wrk (`--capacity-client auto`) they run
   on Locust, with a note in the report; `--capacity-client locust` asks for that;
4. the server stopped, orders and stock accounted for, `stockline check` run;
5. pgbench on the same database: select-only (`-S`), then a place-order script doing the
   SQL work of one 3-line order (lock SKUs, read FEFO batches, order + items, ledger +
   stock);
6. `summary.md` and `summary.json` beside Locust's and wrk's reports and CSV files in
   bench/results/<timestamp>/; the database is dropped (unless --keep-db).

With --host the run goes against a deployment that is already up (with --no-setup: its
existing logins); nothing local is created and the pgbench baselines and order-capacity
phase are skipped (they need the database, or write orders flat out).

Exit status: 0 when the report is written and there was no 5xx and no broken invariant;
1 when the report is written but one of those happened; 2 when the run could not be made.
Performance goals that are missed are reported, not turned into an exit status.
"""

from .run import LoadOptions, run

__all__ = ["LoadOptions", "run"]
