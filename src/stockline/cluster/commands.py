"""`stockline cluster up / down / status`: the scale-out topology left running for a person
to try, and stopped again."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from stockline.cli_args import add_command, whole_number
from stockline.cluster import scenario
from stockline.cluster.components import ClusterError, MissingPackage, missing_packages, service_account
from stockline.cluster.topology import (
    STATE_FILE,
    SeedSizes,
    Topology,
    describe,
    read_state,
    running,
    stop_recorded,
)
from stockline.config import get_settings

POINTER = "cluster-dir"  # in the data folder: the folder of the last `cluster up`
DIR_HELP = "the cluster's folder (default: the last `cluster up` from here)"


def _pointer() -> Path:
    return get_settings().data_dir / POINTER


def require_packages() -> None:
    """MissingPackage (naming each Debian package and the apt-get line) when one is missing;
    ClusterError when we are root without an unprivileged user to run PostgreSQL as."""
    missing = missing_packages()
    if missing:
        raise MissingPackage(missing)
    service_account()


def _new_dir() -> Path:
    # under /tmp: every folder above must be searchable by the unprivileged server user
    return Path(tempfile.mkdtemp(prefix="stockline-cluster-", dir="/tmp"))


def _fresh_dir(raw: Path | None) -> Path:
    if raw is None:
        return _new_dir()
    path = raw.resolve()
    if (path / STATE_FILE).exists():
        state = read_state(path)
        if running(state):
            raise ClusterError(f"a cluster is already running in {path}: stockline cluster down --dir {path}")
        raise ClusterError(f"{path} holds a stopped cluster; remove it (stockline cluster down --dir {path} "
                           "--remove) or choose another folder")
    if path.exists() and any(path.iterdir()):
        raise ClusterError(f"{path} is not empty; choose a new or empty folder")
    return path


def cmd_up(args: argparse.Namespace) -> int:
    require_packages()
    folder = _fresh_dir(args.dir)
    seed = None if args.no_seed else SeedSizes(customers=args.customers, batches=args.batches,
                                               skus=args.skus, products=min(args.products, args.skus))
    try:
        topology = Topology(folder, nodes=args.nodes, workers=args.workers, seed=seed, out=sys.stderr).start()
    except ClusterError as exc:  # everything started was stopped again; the logs stay
        raise ClusterError(f"{exc}\nnothing is left running; the logs are in {folder}/logs") from None
    pointer = _pointer()
    pointer.parent.mkdir(parents=True, exist_ok=True)
    pointer.write_text(str(topology.path))
    print(describe(topology.state()))
    return 0


def _target(raw: Path | None) -> Path:
    if raw is not None:
        return raw.resolve()
    pointer = _pointer()
    if not pointer.exists():
        raise ClusterError("no cluster started from here; pass --dir")
    return Path(pointer.read_text().strip())


def cmd_down(args: argparse.Namespace) -> int:
    folder = _target(args.dir)
    print(f"stopping the cluster in {folder}", file=sys.stderr)
    stop_recorded(folder, bound=args.timeout, out=sys.stderr)
    left = running(read_state(folder))
    if left:
        names = ", ".join(f"{item['name']} (pid {item['pid']})" for item in left)
        print(f"error: still running: {names}", file=sys.stderr)
        return 1
    if args.remove:
        shutil.rmtree(folder)
        print(f"removed {folder}", file=sys.stderr)
    else:
        print(f"stopped; the data and logs stay in {folder} (--remove deletes them)", file=sys.stderr)
    pointer = _pointer()
    if pointer.exists() and pointer.read_text().strip() == str(folder):
        pointer.unlink()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    folder = _target(args.dir)
    state = read_state(folder)
    live = {item["name"] for item in running(state)}
    for item in state["components"]:
        mark = "running" if item["name"] in live else "stopped"
        print(f"{item['name']:<10} {mark:<8} pid {item['pid']:<8} {item.get('url') or ''}")
    return 0 if len(live) == len(state["components"]) else 1


def register(commands) -> None:
    cluster = commands.add_parser(
        "cluster", help="Run the scale-out topology on this machine (HAProxy, app nodes, PgBouncer, "
                        "PostgreSQL primary and replica, Redis)",
        description="The scale-out topology from Debian packages (postgresql-15, pgbouncer, haproxy, "
                    "redis-server), in a folder of its own, on free loopback ports.")
    cluster.set_defaults(handler=lambda _args: (cluster.print_help(sys.stderr), 2)[1])
    sub = cluster.add_subparsers(title="cluster commands", metavar="CLUSTER_COMMAND")

    up = add_command(sub, "up", cmd_up,
                     "Start the topology, seed it by the seed procedure, print the URLs and sign-in "
                     "credentials, and leave it running",
                     "stockline cluster up --nodes 3 --dir /tmp/stockline-cluster")
    up.add_argument("--nodes", type=whole_number(1, 32), default=2,
                    help="app nodes behind HAProxy (default 2)")
    up.add_argument("--workers", type=whole_number(1, 64), default=1,
                    help="server processes per node (default 1: scale by nodes)")
    up.add_argument("--dir", type=Path,
                    help="a new or empty folder for everything (default: a new one in /tmp)")
    up.add_argument("--customers", type=whole_number(1), default=200, help="customers to seed (default 200)")
    up.add_argument("--batches", type=whole_number(1), default=2000, help="batches to seed (default 2000)")
    up.add_argument("--skus", type=whole_number(1), default=500, help="SKUs to seed (default 500)")
    up.add_argument("--products", type=whole_number(1), default=100, help="products to seed (default 100)")
    up.add_argument("--no-seed", action="store_true", help="no data and no users: the schema only")

    down = add_command(sub, "down", cmd_down,
                       "Stop every process of a cluster (SIGTERM, SIGKILL after a bound); keeps its folder "
                       "unless --remove", "stockline cluster down --remove")
    down.add_argument("--dir", type=Path, help=DIR_HELP)
    down.add_argument("--remove", action="store_true", help="delete the folder (data, logs, state) too")
    down.add_argument("--timeout", type=whole_number(1), default=30,
                      help="seconds each process gets to stop before SIGKILL (default 30)")

    status = add_command(sub, "status", cmd_status, "Say which processes of a cluster are running",
                         "stockline cluster status")
    status.add_argument("--dir", type=Path, help=DIR_HELP)
    scenario.register(sub)  # `stockline cluster test` (cluster/scenario.py)
