"""The scale-out topology on one machine, from Debian packages: HAProxy in front of N
`stockline serve` nodes, PgBouncer (transaction pooling, TLS both ways) in front of a
PostgreSQL primary with a streaming replica, and Redis.

- `components.py`: each piece as an object that starts, answers its URLs and stops
  (`Scratch` holds the folder, the ports, the certificates and the order to stop in);
- `topology.py`: the whole thing started in order, seeded, and written to a state file;
- `commands.py`: `stockline cluster up` / `down` / `status` / `test`;
- `scenario.py`: `stockline cluster test`, the load suite's mix through the balancer with
  faults injected; `verdict.py`: its pass/fail rules, as pure functions.

An operations entry point like `stockline.backup`: it imports `stockline.db` and
`stockline.config`, never a domain package; seeding and users go through the `stockline`
command itself.
"""
