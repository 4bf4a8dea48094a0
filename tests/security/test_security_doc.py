"""docs/security.md stays true: every test it cites exists, every setting it names is real."""

from __future__ import annotations

import dataclasses
import re

from chinwag_protocol.errors import ErrorCode
from server.config import Settings
from tests.helpers.wire import ROOT

DOC = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")


def defined_tests() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.update(re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.MULTILINE))
    return names


def test_every_cited_test_exists() -> None:
    cited = set(re.findall(r"\b(test_\w+)`", DOC))
    assert len(cited) > 40
    missing = sorted(cited - defined_tests())
    assert not missing, f"docs/security.md cites tests that do not exist: {missing}"


def test_every_limit_setting_exists() -> None:
    table = DOC.split("| limit | setting (default) | when exceeded |")[1].split("\n\n")[0]
    named = set(re.findall(r"`([a-z_]+)` \(", table))
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert named and named <= fields, named - fields


def test_every_transport_code_is_a_real_code() -> None:
    for code in ("rate_limited", "too_many_connections", "too_long", "text_too_long"):
        assert f"`{code}`" in DOC
        assert code in {c.value for c in ErrorCode}
