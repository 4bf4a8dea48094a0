"""Settings precedence (defaults < TOML < CHINWAG_* env < flags) and the generated CLI."""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from server.config import ConfigError, Settings, add_arguments, load_settings
from tests.helpers.wire import ROOT


def parse(*flags: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(flags))


def write_toml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "chinwag.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults() -> None:
    s = load_settings(parse(), env={})
    assert s.port == 7447 and s.host == "127.0.0.1"
    assert s.max_line == 65536 and s.max_text == 4000
    assert s.default_rooms == ("lobby",)
    assert s.history_replay == 50


def test_precedence_defaults_toml_env_flags(tmp_path: Path) -> None:
    cfg = write_toml(
        tmp_path,
        '[server]\nport = 1111\nmax_text = 111\nmotd = "from toml"\nhistory_replay = 11\n'
        'default_rooms = ["Lobby", "dev"]\n',
    )
    env = {"CHINWAG_PORT": "2222", "CHINWAG_MAX_TEXT": "222"}
    s = load_settings(parse("--config", str(cfg), "--port", "3333"), env=env)
    assert s.port == 3333  # flag beats env and TOML
    assert s.max_text == 222  # env beats TOML
    assert s.motd == "from toml"  # TOML beats default
    assert s.history_replay == 11
    assert s.default_rooms == ("lobby", "dev")  # normalised
    assert s.max_line == 65536  # default where nobody says anything


def test_config_from_env_var_and_top_level_keys(tmp_path: Path) -> None:
    cfg = write_toml(tmp_path, 'max-line = 2048\nserver_name = "top"\n')
    s = load_settings(parse(), env={"CHINWAG_CONFIG": str(cfg)})
    assert s.max_line == 2048 and s.server_name == "top"


def test_env_and_flag_conversions(tmp_path: Path) -> None:
    env = {
        "CHINWAG_PING_INTERVAL": "2.5",
        "CHINWAG_IDLE_TIMEOUT": "7",
        "CHINWAG_DEFAULT_ROOMS": "a, b ,c",
        "CHINWAG_DATA_DIR": str(tmp_path / "d"),
        "CHINWAG_MOTD": "",  # empty means unset
    }
    s = load_settings(parse("--history-sync", "normal"), env=env)
    assert s.ping_interval == 2.5 and s.idle_timeout == 7.0
    assert s.default_rooms == ("a", "b", "c")
    assert s.data_dir == tmp_path / "d"
    assert s.history_sync == "normal"
    assert s.motd == ""


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"CHINWAG_PORT": "http"}, "CHINWAG_PORT"),
        ({"CHINWAG_PORT": "70000"}, "port"),
        ({"CHINWAG_MAX_LINE": "0"}, "max_line"),
        ({"CHINWAG_IDLE_TIMEOUT": "1", "CHINWAG_PING_INTERVAL": "5"}, "idle_timeout"),
        ({"CHINWAG_DEFAULT_ROOMS": "#bad"}, "default_rooms"),
        ({"CHINWAG_HISTORY_SYNC": "sometimes"}, "history_sync"),
        ({"CHINWAG_HANDSHAKE_TIMEOUT": "-1"}, "handshake_timeout"),
        ({"CHINWAG_PING_INTERVAL": "nan"}, "ping_interval"),
        ({"CHINWAG_SHUTDOWN_GRACE": "inf"}, "shutdown_grace"),
        ({"CHINWAG_IDLE_TIMEOUT": "inf"}, "idle_timeout"),
    ],
)
def test_bad_values_are_clear_errors(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(parse(), env=env)
    assert fragment in str(info.value)


def test_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(parse("--config", str(write_toml(tmp_path, "colour = 1\n"))), env={})
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(parse("--config", str(write_toml(tmp_path, "port = \n"))), env={})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(parse("--config", str(tmp_path / "missing.toml")), env={})
    with pytest.raises(ConfigError, match="port"):
        load_settings(parse("--config", str(write_toml(tmp_path, 'port = "x"\n'))), env={})


def run_server_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_lists_every_setting() -> None:
    result = run_server_cli("--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for f in dataclasses.fields(Settings):
        assert "--" + f.name.replace("_", "-") in out, f.name
        assert "CHINWAG_" + f.name.upper() in out, f.name
    assert "--config" in out


def test_bad_flag_value_exits_with_message(tmp_path: Path) -> None:
    result = run_server_cli("--port", "nope", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "port" in result.stderr and "Traceback" not in result.stderr
