"""Serving the app with uvicorn: one process, or a supervisor and several workers.

Two settings reach every server process:
- `KEEP_ALIVE_SECONDS` (75): how long an idle keep-alive connection is kept. It must be
  longer than the idle timeout of whatever sits in front (load balancers commonly use 60 s,
  clients such as httpx 5 s): the side that closes an idle connection must be the client,
  or a request sent on it at the moment the server closes it gets no answer at all (a 502
  behind a proxy, "server disconnected" in a client).
- `GRACEFUL_SHUTDOWN_SECONDS` (30): on SIGTERM, requests already in flight get this long to
  finish before they are cancelled.

With several workers the supervisor restarts a worker that dies, and on SIGTERM it closes
its own copy of the listening socket first, so once the workers close theirs new
connections are refused at once instead of waiting in a backlog nobody will accept.
"""

from __future__ import annotations

import copy
import logging

import uvicorn
from uvicorn.supervisors import Multiprocess

from stockline.config import Settings
from stockline.errors import StocklineError

log = logging.getLogger(__name__)

APP = "stockline.app:create_app"


class _Supervisor(Multiprocess):
    def _stop_listening(self) -> None:
        for sock in self.sockets:
            sock.close()

    def handle_term(self) -> None:
        self._stop_listening()
        super().handle_term()

    def handle_int(self) -> None:
        self._stop_listening()
        super().handle_int()


def log_config() -> dict:
    """uvicorn's logging, with the time, level, logger and process id on every line, and the
    app's own loggers (stockline, psycopg's pool) in it: with several workers each line
    says which one wrote it."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["default"] = {
        "format": "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"}
    config["formatters"]["access"]["fmt"] = (
        '%(asctime)s ACCESS %(client_addr)s - "%(request_line)s" %(status_code)s')
    config["loggers"]["stockline"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config["loggers"]["psycopg"] = {"handlers": ["default"], "level": "WARNING", "propagate": False}
    return config


def server_config(settings: Settings, *, host: str, port: int, workers: int,
                  access_log: bool) -> uvicorn.Config:
    return uvicorn.Config(
        APP, factory=True, host=host, port=port, workers=workers, access_log=access_log,
        log_level="info", log_config=log_config(),
        proxy_headers=False,  # the app believes forwarded headers only from TRUSTED_PROXIES
        timeout_keep_alive=settings.keep_alive_seconds,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
    )


def serve(settings: Settings, *, host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve until SIGTERM or SIGINT; in-flight requests finish first."""
    config = server_config(settings, host=host, port=port, workers=workers, access_log=access_log)
    log.info("serving on http://%s:%d with %d worker(s); idle connections kept %d s",
             host, port, workers, settings.keep_alive_seconds)
    if workers == 1:
        server = uvicorn.Server(config)
        server.run()
        if not server.started:
            raise StocklineError("the server did not start (see the log above)")
        return
    _Supervisor(config, sockets=[config.bind_socket()]).run()
