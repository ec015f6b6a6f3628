"""Every setting, read once from the environment (and `.env` when present).

Settings are built by `get_settings()` (cached) from `create_app()` and the CLI, never at
import time, so tests build their own `Settings` without touching the environment.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from stockline.errors import ConfigError

ENVIRONMENTS = ("dev", "test", "production")
GOOGLE_ISSUER = "https://accounts.google.com"

def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of IP addresses or CIDR ranges, checked here so a typo fails at start."""
    parts = tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())
    for part in parts:
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError as exc:
            raise ConfigError(f"{name} must list IP addresses or CIDR ranges: {exc}") from None
    return parts


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of browser origins (`https://app.example.com`), or `*`."""
    parts = tuple(part.strip().rstrip("/") for part in env.get(name, "").split(",") if part.strip())
    if "*" in parts:
        if len(parts) > 1:
            raise ConfigError(f"{name} is either * or a list of origins, not both")
        return parts
    for part in parts:
        split = urlsplit(part)
        if split.scheme not in ("http", "https") or not split.netloc or split.path or split.query:
            raise ConfigError(f"{name} must list origins such as http://localhost:3000 "
                              f"(scheme, host and port), got {part!r}")
    return parts


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = _optional_flag(env, name)
    return default if value is None else value


def _optional_flag(env: Mapping[str, str], name: str) -> bool | None:
    """1/0 (true/false, yes/no, on/off), or None when unset."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def _public_url(env: Mapping[str, str], name: str) -> str | None:
    """The origin people reach the app at (`https://orders.example.com`), checked at start."""
    raw = env.get(name, "").strip().rstrip("/")
    if not raw:
        return None
    parts = urlsplit(raw)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is no port
    except ValueError:
        parts = parts._replace(netloc="")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http:// or https:// URL such as "
                          f"https://orders.example.com, got {raw!r}")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{name} must be only scheme, host and port (the app is served at /), "
                          f"got {raw!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


_TOKEN_CHARACTERS = frozenset(chr(code) for code in range(0x21, 0x7F))  # visible ASCII


def _token(env: Mapping[str, str], name: str, min_length: int = 16) -> str | None:
    """A secret a client sends in a header: visible ASCII (anything else could never match)."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if len(raw) < min_length or not set(raw) <= _TOKEN_CHARACTERS:
        raise ConfigError(f"{name} must be at least {min_length} visible ASCII characters "
                          "(no spaces), e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    return raw


def _first(env: Mapping[str, str], *names: str) -> str | None:
    """The first of `names` that is set (a setting and the names it is also known by)."""
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def _http_url(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http:// or https:// URL, got {value!r}")
    return value


def _emails(env: Mapping[str, str], *names: str) -> frozenset[str]:
    """A comma-separated list of email addresses (compared without regard to case)."""
    raw = _first(env, *names) or ""
    emails = frozenset(part.strip().lower() for part in raw.split(",") if part.strip())
    for email in emails:
        if email.count("@") != 1 or email.startswith("@") or email.endswith("@"):
            raise ConfigError(f"{names[0]} must list email addresses, got {email!r}")
    return emails


def _domains(env: Mapping[str, str], *names: str) -> frozenset[str]:
    """A comma-separated list of email domains (`example.com`; a leading @ is dropped)."""
    raw = _first(env, *names) or ""
    domains = frozenset(part.strip().lower().lstrip("@") for part in raw.split(",") if part.strip())
    for domain in domains:
        if "@" in domain or "." not in domain:
            raise ConfigError(f"{names[0]} must list email domains such as example.com, got {domain!r}")
    return domains


@dataclass(frozen=True)
class OidcSettings:
    """Sign-in with an OpenID Connect provider (auth.oidc): the provider, this app as its
    client, and who may come in. Built by `Settings.from_env` only when the issuer, client id
    and secret are all set; PharmAssist's GOOGLE_OAUTH_* names are accepted and mean Google."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str | None = None  # where a browser app (PharmAssist's) gets its codes
    provider_name: str = "your identity provider"
    admin_emails: frozenset[str] = frozenset()
    admin_domains: frozenset[str] = frozenset()
    staff_emails: frozenset[str] = frozenset()
    staff_domains: frozenset[str] = frozenset()
    auto_create_customers: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OidcSettings | None:
        client_id = _first(environ, "OIDC_CLIENT_ID", "GOOGLE_OAUTH_CLIENT_ID")
        client_secret = _first(environ, "OIDC_CLIENT_SECRET", "GOOGLE_OAUTH_CLIENT_SECRET")
        redirect_uri = _http_url(_first(environ, "OIDC_REDIRECT_URI", "GOOGLE_OAUTH_REDIRECT_URI"),
                                 "OIDC_REDIRECT_URI")
        issuer = _first(environ, "OIDC_ISSUER")
        if issuer is None and _first(environ, "GOOGLE_OAUTH_CLIENT_ID", "GOOGLE_OAUTH_CLIENT_SECRET"):
            issuer = GOOGLE_ISSUER
        issuer = _http_url(issuer.rstrip("/") if issuer else None, "OIDC_ISSUER")
        given = {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": client_id, "OIDC_CLIENT_SECRET": client_secret}
        if not any(given.values()):
            return None
        missing = [name for name, value in given.items() if not value]
        if missing:
            raise ConfigError(f"Sign-in with an identity provider needs OIDC_ISSUER, OIDC_CLIENT_ID and "
                              f"OIDC_CLIENT_SECRET (or GOOGLE_OAUTH_CLIENT_ID and _SECRET); "
                              f"missing: {', '.join(missing)}")
        assert issuer and client_id and client_secret
        default_name = "Google" if issuer == GOOGLE_ISSUER else "your identity provider"
        return cls(
            issuer=issuer, client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri,
            provider_name=_first(environ, "OIDC_PROVIDER_NAME") or default_name,
            admin_emails=_emails(environ, "OIDC_ADMIN_EMAILS", "ADMIN_EMAILS"),
            admin_domains=_domains(environ, "OIDC_ADMIN_DOMAIN", "ADMIN_EMAIL_DOMAIN"),
            staff_emails=_emails(environ, "OIDC_STAFF_EMAILS"),
            staff_domains=_domains(environ, "OIDC_STAFF_DOMAIN"),
            auto_create_customers=_flag(environ, "OIDC_AUTO_CREATE_CUSTOMERS", False),
        )


@dataclass(frozen=True)
class Settings:
    env: str = "production"
    database_url: str | None = None
    database_read_url: str | None = None  # a streaming replica for lag-tolerant reads (read_routing)
    database_listen_url: str | None = None  # LISTEN for catalog versions; None: the primary's URL
    read_your_writes_seconds: int = 30  # how long a user's last write position is remembered
    replica_max_lag_seconds: int = 5  # a replica further behind than this serves nothing
    data_dir: Path = field(default_factory=lambda: Path(".stockline").resolve())
    secret_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    redis_url: str | None = None
    run_index_bootstrap: bool = False
    cache_ttl_products: int = 30
    cache_ttl_listing: int = 300
    min_shelf_life_days: int = 0
    expiring_soon_days: int = 30
    log_timing: bool = False
    db_pool_min: int = 2
    db_pool_max: int = 10
    db_prepare: bool = True
    db_tx_retries: int = 5
    db_connect_timeout: int = 5
    db_lock_timeout: int = 5
    db_statement_timeout: int = 30
    keep_alive_seconds: int = 75
    graceful_shutdown_seconds: int = 30
    token_ttl_seconds: int = 3600
    session_ttl_seconds: int = 8 * 3600
    bench_endpoints: bool = False
    max_body_bytes: int = 1024 * 1024
    trusted_proxies: tuple[str, ...] = ()  # peers whose X-Forwarded-For/-Proto are believed
    login_window_seconds: int = 15 * 60
    login_user_limit: int = 5  # attempts per username from one client, per window
    login_client_limit: int = 30  # failures per client across usernames, per window
    login_global_limit: int = 5000  # everyone's failures together, per window
    hash_concurrency: int = 2  # password hashes at once per worker (each ~19 MiB and a core)
    hash_wait_seconds: int = 5  # how long a sign-in waits for a hashing slot before 503
    api_docs: bool | None = None  # /docs and /openapi.json; None: on unless env is production
    metrics_token: str | None = field(default=None, repr=False)  # set: /metrics wants it as a bearer
    public_url: str | None = None  # the origin users reach, e.g. https://orders.example.com
    oidc: OidcSettings | None = None  # sign-in with an identity provider, when configured
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API; ("*",) any
    cors_allow_credentials: bool = False  # cross-origin requests may carry cookies (never with *)
    pharmassist_compat: bool = False  # also serve PharmAssist's HTTP contract (stockline.compat)
    # the seller printed on invoices and credit notes (copied onto each when it is issued)
    seller_name: str = "Stockline Distribution"
    seller_address: str | None = None
    seller_tax_id: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `environ` (default: `.env` overlaid by the process environment)."""
        if environ is None:
            environ = {**{k: v for k, v in dotenv_values(".env").items() if v is not None},
                       **os.environ}
        env = environ.get("STOCKLINE_ENV", "production").strip().lower() or "production"
        if env not in ENVIRONMENTS:
            raise ConfigError(f"STOCKLINE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
        pool_min = _int(environ, "DB_POOL_MIN", 2)
        pool_max = _int(environ, "DB_POOL_MAX", 10, minimum=1)
        if pool_min > pool_max:
            raise ConfigError(f"DB_POOL_MIN ({pool_min}) must not exceed DB_POOL_MAX ({pool_max})")
        return cls(
            env=env,
            database_url=environ.get("DATABASE_URL", "").strip() or None,
            database_read_url=environ.get("DATABASE_READ_URL", "").strip() or None,
            database_listen_url=environ.get("DATABASE_LISTEN_URL", "").strip() or None,
            read_your_writes_seconds=_int(environ, "READ_YOUR_WRITES_SECONDS", 30, minimum=1),
            replica_max_lag_seconds=_int(environ, "REPLICA_MAX_LAG_SECONDS", 5, minimum=1),
            data_dir=Path(environ.get("STOCKLINE_DATA_DIR", "").strip() or ".stockline").resolve(),
            secret_key=environ.get("SECRET_KEY", "").strip() or None,
            host=environ.get("HOST", "").strip() or "127.0.0.1",
            port=_int(environ, "PORT", 5000, minimum=1),
            workers=_int(environ, "WORKERS", 1, minimum=1),
            redis_url=environ.get("REDIS_URL", "").strip() or None,
            run_index_bootstrap=_flag(environ, "RUN_INDEX_BOOTSTRAP", False),
            cache_ttl_products=_int(environ, "CACHE_TTL_PRODUCTS", 30),
            cache_ttl_listing=_int(environ, "CACHE_TTL_LISTING", 300),
            min_shelf_life_days=_int(environ, "MIN_SHELF_LIFE_DAYS", 0),
            expiring_soon_days=_int(environ, "EXPIRING_SOON_DAYS", 30),
            log_timing=_flag(environ, "LOG_TIMING", False),
            db_pool_min=pool_min,
            db_pool_max=pool_max,
            db_prepare=_flag(environ, "DB_PREPARE", True),
            db_tx_retries=_int(environ, "DB_TX_RETRIES", 5, minimum=1),
            db_connect_timeout=_int(environ, "DB_CONNECT_TIMEOUT", 5, minimum=1),
            db_lock_timeout=_int(environ, "DB_LOCK_TIMEOUT", 5, minimum=1),
            db_statement_timeout=_int(environ, "DB_STATEMENT_TIMEOUT", 30, minimum=1),
            keep_alive_seconds=_int(environ, "KEEP_ALIVE_SECONDS", 75, minimum=1),
            graceful_shutdown_seconds=_int(environ, "GRACEFUL_SHUTDOWN_SECONDS", 30, minimum=1),
            token_ttl_seconds=_int(environ, "TOKEN_TTL_SECONDS", 3600, minimum=60),
            session_ttl_seconds=_int(environ, "SESSION_TTL_SECONDS", 8 * 3600, minimum=300),
            bench_endpoints=_flag(environ, "BENCH_ENDPOINTS", False),
            max_body_bytes=_int(environ, "MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            trusted_proxies=_networks(environ, "TRUSTED_PROXIES"),
            login_window_seconds=_int(environ, "LOGIN_WINDOW_SECONDS", 15 * 60, minimum=1),
            login_user_limit=_int(environ, "LOGIN_USER_LIMIT", 5, minimum=1),
            login_client_limit=_int(environ, "LOGIN_CLIENT_LIMIT", 30, minimum=1),
            login_global_limit=_int(environ, "LOGIN_GLOBAL_LIMIT", 5000, minimum=1),
            hash_concurrency=_int(environ, "HASH_CONCURRENCY", 2, minimum=1),
            hash_wait_seconds=_int(environ, "HASH_WAIT_SECONDS", 5, minimum=0),
            api_docs=_optional_flag(environ, "API_DOCS"),
            metrics_token=_token(environ, "METRICS_TOKEN"),
            public_url=_public_url(environ, "PUBLIC_URL"),
            oidc=OidcSettings.from_env(environ),
            cors_origins=_origins(environ, "CORS_ORIGINS"),
            cors_allow_credentials=_flag(environ, "CORS_ALLOW_CREDENTIALS", False),
            pharmassist_compat=_flag(environ, "PHARMASSIST_COMPAT", False),
            seller_name=environ.get("SELLER_NAME", "").strip() or "Stockline Distribution",
            # a literal "\n" in the environment breaks the address into lines
            seller_address=environ.get("SELLER_ADDRESS", "").replace("\\n", "\n").strip() or None,
            seller_tax_id=environ.get("SELLER_TAX_ID", "").strip() or None,
        )

    def __post_init__(self) -> None:
        if self.read_your_writes_seconds < self.replica_max_lag_seconds + 2:
            # a write older than the window must be on any replica still in use (its lag is at
            # most REPLICA_MAX_LAG_SECONDS, measured every second)
            raise ConfigError(f"READ_YOUR_WRITES_SECONDS ({self.read_your_writes_seconds}) must be at least "
                              f"REPLICA_MAX_LAG_SECONDS + 2 ({self.replica_max_lag_seconds + 2})")
        if self.cors_allow_credentials and "*" in self.cors_origins:
            raise ConfigError("CORS_ORIGINS=* cannot be used with CORS_ALLOW_CREDENTIALS=1: list the "
                              "origins that may send credentials")

    @property
    def seller(self) -> dict[str, str | None]:
        """The seller as invoices and credit notes carry it."""
        return {"name": self.seller_name, "address": self.seller_address, "tax_id": self.seller_tax_id}

    @property
    def serves_api_docs(self) -> bool:
        """Whether /docs and /openapi.json are served: API_DOCS, else everywhere but production."""
        return self.env != "production" if self.api_docs is None else self.api_docs

    @property
    def serves_metrics(self) -> bool:
        """Whether /metrics answers at all: with a METRICS_TOKEN (to its bearer only), or
        without one outside production (to anyone)."""
        return self.metrics_token is not None or self.env != "production"

    @property
    def public_https(self) -> bool:
        """PUBLIC_URL is https: cookies are Secure and HSTS is sent whatever scheme a request
        arrived with (TLS ends at a proxy in front)."""
        return self.public_url is not None and self.public_url.startswith("https://")

    @property
    def db_hang_seconds(self) -> float:
        """How long one use of a pooled connection may last before the app cuts it. The
        server ends a statement after `db_statement_timeout`; a use that outlasts that by
        the connect timeout means the database or the network stopped answering."""
        return float(self.db_statement_timeout + self.db_connect_timeout)

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)

    def resolved_secret_key(self) -> str:
        """The signing key. Outside dev mode it must be configured; in dev mode one is made
        once and kept in the data folder so tokens survive restarts."""
        if self.secret_key:
            if self.env == "production" and len(self.secret_key) < 32:
                raise ConfigError("SECRET_KEY must be at least 32 characters in production")
            return self.secret_key
        if self.env != "dev":
            raise ConfigError(
                "SECRET_KEY is not set. Set it to a long random string "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or use STOCKLINE_ENV=dev on a development machine."
            )
        path = self.data_dir / "dev_secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


@dataclass(frozen=True)
class SeedSettings:
    """Sizes and behaviour of the scale-data generator (the seed procedure's SCALE_* names)."""

    customers: int = 500
    products: int = 250
    skus: int = 1500
    batches: int = 8000
    chunk_size: int = 1000
    append: bool = False
    seed: int | None = None
    pricing_rules: int = 0
    orders: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SeedSettings:
        environ = os.environ if environ is None else environ
        # the procedure names CHUNK_SIZE; SCALE_CHUNK_SIZE matches the other names and wins
        chunk_env = "SCALE_CHUNK_SIZE" if environ.get("SCALE_CHUNK_SIZE", "").strip() else "CHUNK_SIZE"
        raw_seed = environ.get("SCALE_SEED", "").strip()
        return cls(
            customers=_int(environ, "SCALE_CUSTOMERS", 500),
            products=_int(environ, "SCALE_PRODUCTS", 250),
            skus=_int(environ, "SCALE_SKUS", 1500),
            batches=_int(environ, "SCALE_BATCHES", 8000),
            chunk_size=_int(environ, chunk_env, 1000, minimum=1),
            append=_flag(environ, "SCALE_APPEND", False),
            seed=_int(environ, "SCALE_SEED", 0) if raw_seed else None,
            pricing_rules=_int(environ, "SCALE_PRICING_RULES", 0),
            orders=_int(environ, "SCALE_ORDERS", 0),
        )
