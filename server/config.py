"""Server settings: defaults < TOML file < ``CHINWAG_*`` environment < command-line flags.

Every setting is one field of :class:`Settings`; its metadata gives the help
text, and the flag (``--max-line``), the variable (``CHINWAG_MAX_LINE``) and
the TOML key (``max_line``) all derive from the field name, so the four
sources can never disagree about what exists.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chinwag_protocol.constants import (
    DEFAULT_HOST,
    DEFAULT_MAX_LINE,
    DEFAULT_MAX_TEXT,
    DEFAULT_PORT,
    DEFAULT_ROOM,
    DEFAULT_TLS_PORT,
)

ENV_PREFIX = "CHINWAG_"


class ConfigError(Exception):
    """A setting has a value we cannot use; the message says which and why."""


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "chinwag"


def _opt(default: Any, help: str, *, live: bool = False, **kw: Any) -> Any:
    return field(default=default, metadata={"help": help, "live": live, **kw})


def _opt_factory(factory: Any, help: str, *, live: bool = False) -> Any:
    return field(default_factory=factory, metadata={"help": help, "live": live})


@dataclass(frozen=True, slots=True)
class Settings:
    """All server settings.  ``live`` ones are re-read on SIGHUP."""

    host: str = _opt(DEFAULT_HOST, "address to listen on (0.0.0.0 for all IPv4 interfaces)")
    port: int = _opt(DEFAULT_PORT, "TCP port to listen on (0 picks a free one)")
    data_dir: Path = _opt_factory(  # noqa: RUF009 - a factory, evaluated per instance
        default_data_dir, "directory for the history database"
    )
    server_name: str = _opt("chinwag", "name the server gives in its hello reply")
    motd: str = _opt("", "message of the day, sent in the hello reply", live=True)
    default_rooms: tuple[str, ...] = _opt(
        (DEFAULT_ROOM,), "rooms that always exist (comma-separated)"
    )
    history_replay: int = _opt(50, "messages replayed to a client joining a room", live=True)
    history_sync: str = _opt(
        "full",
        "SQLite fsync policy: 'full' (fsync every group commit) or 'normal' (survives a crash "
        "of the server, not of the machine)",
        choices=("full", "normal"),
    )
    max_line: int = _opt(DEFAULT_MAX_LINE, "longest accepted line in bytes", live=True)
    max_text: int = _opt(DEFAULT_MAX_TEXT, "longest message text in characters", live=True)
    max_send_buffer: int = _opt(
        1024 * 1024,
        "bytes queued for a client that does not read before it is disconnected",
        live=True,
    )
    ping_interval: float = _opt(30.0, "seconds of client silence before the server pings it")
    idle_timeout: float = _opt(90.0, "seconds of client silence before it is disconnected")
    handshake_timeout: float = _opt(15.0, "seconds a new connection has to say hello")
    shutdown_grace: float = _opt(5.0, "seconds clients get to close on shutdown")
    log_level: str = _opt(
        "info", "log level", live=True, choices=("debug", "info", "warning", "error")
    )
    # --- service settings (logging, daemon, metrics) ---
    log_format: str = _opt(
        "text",
        "log line format: 'text' (for people) or 'json' (one object per line)",
        live=True,
        choices=("text", "json"),
    )
    log_file: str = _opt(
        "", "append the log to this file instead of stderr (reopened on SIGHUP)", live=True
    )
    pidfile: str = _opt(
        "", "locked pidfile (default with --daemon: DATA_DIR/chinwag.pid; else none)"
    )
    metrics_host: str = _opt("127.0.0.1", "address of the Prometheus metrics endpoint")
    metrics_port: int = _opt(0, "port of the Prometheus metrics endpoint /metrics (0 = off)")
    # --- security settings (accounts, TLS, abuse limits) ---
    require_account: bool = _opt(
        False, "refuse guests: every hello must carry the password of a registered nick", live=True
    )
    password_min_length: int = _opt(8, "shortest password accepted by register and password")
    password_time_cost: int = _opt(3, "argon2id passes per password hash")
    password_memory_kib: int = _opt(65536, "argon2id memory per password hash, in KiB")
    password_hash_workers: int = _opt(
        2, "threads hashing passwords (bounds the CPU and memory a login flood can take)"
    )
    login_attempts: int = _opt(
        5, "failed password attempts per account before logins to it are throttled", live=True
    )
    login_attempts_per_address: int = _opt(
        20, "failed password attempts per client address before it is throttled", live=True
    )
    login_refill: float = _opt(
        30.0, "seconds after which one more failed attempt is allowed again", live=True
    )
    max_rooms_per_user: int = _opt(50, "rooms one connection may be in at once", live=True)
    max_members_per_room: int = _opt(1000, "distinct nicks one room may hold", live=True)
    default_room_ops: tuple[str, ...] = _opt(
        (),
        "accounts that are operators of the default rooms (comma-separated nicks); in a "
        "default room nobody becomes operator just by joining it first",
        live=True,
    )
    tls_cert: str = _opt("", "PEM certificate (chain) for the TLS listener ('' = no TLS)")
    tls_key: str = _opt("", "PEM private key of tls_cert ('' = the key is in the tls_cert file)")
    tls_host: str = _opt("", "address of the TLS listener ('' = the host setting)")
    tls_port: int = _opt(DEFAULT_TLS_PORT, "TCP port of the TLS listener (0 picks a free one)")
    plain: bool = _opt(
        True, "also listen for plain TCP on host:port (turn off for TLS only; needs tls_cert)"
    )
    rate_requests: float = _opt(
        200.0, "requests per second one connection may sustain (0 = unlimited)", live=True
    )
    rate_burst: int = _opt(
        1000,
        "requests one connection may send at once (the bucket rate_requests refills)",
        live=True,
    )
    rate_strikes: int = _opt(
        200,
        "requests dropped for rate_requests (one forgiven per second) before the connection "
        "is closed (0 = never close)",
        live=True,
    )
    rate_bytes: int = _opt(
        1024 * 1024,
        "bytes per second read from one connection; above, reading pauses (0 = unlimited)",
        live=True,
    )
    max_connections_per_address: int = _opt(
        64, "open connections from one client address (0 = unlimited)", live=True
    )
    limit_exempt: tuple[str, ...] = _opt(
        ("127.0.0.1", "::1"),
        "addresses not counted by max_connections_per_address (comma-separated; '' = none)",
        live=True,
    )
    # --- performance settings (fan-out, batching) ---
    fanout_window: float = _opt(
        0.04,
        "longest time in seconds between two writes of a busy room's events to each member "
        "(its fan-out period; members are written on a rolling schedule; at most 0.1)",
    )
    fanout_window_per_member: float = _opt(
        0.00002,
        "fan-out period per room member in seconds (up to fanout_window): each period costs "
        "about one write per member, so this caps a busy room's fan-out CPU share; rooms "
        "under 25 members are written once per event-loop iteration",
    )
    history_batch_max: int = _opt(
        5000, "most history writes committed in one transaction (group commit)"
    )

    def validate(self) -> Settings:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be 0-65535, not {self.port}")
        if not 0 <= self.fanout_window <= 0.1:
            raise ConfigError(f"fanout_window must be 0 to 0.1 seconds, not {self.fanout_window}")
        if not 0 <= self.fanout_window_per_member <= 0.001:
            raise ConfigError(
                "fanout_window_per_member must be 0 to 0.001 seconds, "
                f"not {self.fanout_window_per_member}"
            )
        if not 1 <= self.history_batch_max <= 1_000_000:
            raise ConfigError(
                f"history_batch_max must be 1 to 1000000, not {self.history_batch_max}"
            )
        if not 0 <= self.metrics_port <= 65535:
            raise ConfigError(f"metrics_port must be 0-65535 (0 = off), not {self.metrics_port}")
        for name in (
            "history_replay",
            "max_line",
            "max_text",
            "max_send_buffer",
            "password_min_length",
            "password_time_cost",
            "password_hash_workers",
            "login_attempts",
            "login_attempts_per_address",
            "max_rooms_per_user",
            "max_members_per_room",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.history_replay > 1000:
            raise ConfigError("history_replay must be at most 1000")
        for name in ("ping_interval", "idle_timeout", "handshake_timeout", "shutdown_grace"):
            if not 0 < getattr(self, name) < float("inf"):  # also rejects nan
                raise ConfigError(f"{name} must be a positive number of seconds")
        if self.password_memory_kib < 8:
            raise ConfigError("password_memory_kib must be at least 8")
        if self.login_refill <= 0:
            raise ConfigError("login_refill must be positive")
        if not 0 <= self.tls_port <= 65535:
            raise ConfigError(f"tls_port must be 0-65535, not {self.tls_port}")
        if not self.plain and not self.tls_cert:
            raise ConfigError("plain is off but no tls_cert is set: nothing to listen on")
        if self.tls_key and not self.tls_cert:
            raise ConfigError("tls_key is set but tls_cert is not")
        same_host = (self.tls_host or self.host) == self.host
        if self.tls_cert and self.plain and same_host and self.tls_port == self.port != 0:
            raise ConfigError(f"tls_port and port are both {self.port}: give TLS its own port")
        for name in (
            "rate_requests",
            "rate_burst",
            "rate_strikes",
            "rate_bytes",
            "max_connections_per_address",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be 0 (off) or more")
        if self.rate_requests and self.rate_burst < 1:
            raise ConfigError("rate_burst must be at least 1 when rate_requests is on")
        if self.idle_timeout <= self.ping_interval:
            raise ConfigError("idle_timeout must be longer than ping_interval")
        from chinwag_protocol.errors import RequestError
        from chinwag_protocol.validation import normalize_room

        try:
            rooms = tuple(normalize_room(r) for r in self.default_rooms)
        except RequestError as exc:
            raise ConfigError(f"default_rooms: {exc.message}") from None
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            if choices and getattr(self, f.name) not in choices:
                raise ConfigError(f"{f.name} must be one of {', '.join(choices)}")
        return dataclasses.replace(self, default_rooms=rooms, data_dir=self.data_dir.expanduser())

    @property
    def db_path(self) -> Path:
        return self.data_dir / "chinwag.sqlite3"


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _convert(name: str, raw: Any, source: str) -> Any:
    """Turn a TOML value or a string from env/CLI into the field's type."""
    ftype = _FIELDS[name].type
    try:
        if ftype == "int":
            if isinstance(raw, bool):
                raise ValueError
            return int(raw)
        if ftype == "float":
            if isinstance(raw, bool):
                raise ValueError
            return float(raw)
        if ftype == "bool":
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in ("1", "true", "yes", "on"):
                return True
            if word in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if ftype == "Path":
            return Path(str(raw))
        if ftype.startswith("tuple"):
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(str(i).strip() for i in items if str(i).strip())
        if not isinstance(raw, str):
            raise ValueError
        return raw
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: {name} expects {ftype}, got {raw!r}") from None


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    table = data.get("server", data)
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in _FIELDS:
            raise ConfigError(f"{path}: unknown setting {key!r}")
        out[name] = _convert(name, value, str(path))
    return out


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _FIELDS:
        var = ENV_PREFIX + name.upper()
        if var in env and env[var] != "":
            out[name] = _convert(name, env[var], var)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per setting (default None, so unset flags don't override)."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"TOML settings file (also {ENV_PREFIX}CONFIG); keys as the flags, with '_'",
    )
    for f in dataclasses.fields(Settings):
        default: Any = f.default
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        if isinstance(default, tuple):
            default = ",".join(default)
        env = ENV_PREFIX + f.name.upper()
        kwargs: dict[str, Any] = {
            "default": None,
            "metavar": f.name.upper(),
            "help": f"{f.metadata['help']} [env {env}; default: {default}"
            + ("; reloaded on SIGHUP]" if f.metadata.get("live") else "]"),
        }
        if f.metadata.get("choices"):
            kwargs["choices"] = f.metadata["choices"]
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, **kwargs)


def load_settings(
    args: argparse.Namespace | None = None,
    env: Mapping[str, str] | None = None,
    config: Path | None = None,
) -> Settings:
    """Merge every source in precedence order and validate the result."""
    env = os.environ if env is None else env
    merged: dict[str, Any] = {}
    cfg_path = config or (getattr(args, "config", None) if args else None)
    if cfg_path is None and env.get(ENV_PREFIX + "CONFIG"):
        cfg_path = Path(env[ENV_PREFIX + "CONFIG"])
    if cfg_path is not None:
        merged.update(_from_toml(Path(cfg_path)))
    merged.update(_from_env(env))
    if args is not None:
        for name in _FIELDS:
            value = getattr(args, name, None)
            if value is not None:
                merged[name] = _convert(name, value, "--" + name.replace("_", "-"))
    return Settings(**merged).validate()


def live_fields() -> Sequence[str]:
    return [f.name for f in dataclasses.fields(Settings) if f.metadata.get("live")]
