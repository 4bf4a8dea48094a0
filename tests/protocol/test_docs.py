"""The committed JSON Schema and docs/protocol.md stay in step with the code and the core."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from chinwag_protocol import schema
from chinwag_protocol.errors import ErrorCode
from chinwag_protocol.messages import CLIENT_REQUEST_TYPES, SERVER_EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT.parent / "shared" / "docs" / "protocol-core.md"
DOC = ROOT / "docs" / "protocol.md"


def test_committed_schema_equals_generated() -> None:
    committed = (ROOT / "docs" / "protocol.schema.json").read_text(encoding="utf-8")
    assert committed == schema.render(), (
        "docs/protocol.schema.json is stale: run "
        "`.venv/bin/python -m chinwag_protocol.schema > docs/protocol.schema.json`"
    )


def core_text() -> str:
    if not CORE.exists():
        if os.environ.get("CI"):  # CI checks out shared/ beside the repo: it must be there
            pytest.fail(f"core contract not found at {CORE}")
        pytest.skip(f"core contract not found at {CORE} (a clone without shared/ beside it)")
    return CORE.read_text(encoding="utf-8")


def table_types(text: str, heading: str) -> set[str]:
    """The `type` names in the first column of the table under ``heading``."""
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


def tags(types: tuple[type, ...]) -> set[str]:
    return {str(t.__struct_config__.tag) for t in types}  # type: ignore[attr-defined]


def test_core_tables_parse() -> None:
    text = core_text()
    assert len(table_types(text, "## Client → server")) >= 13
    assert len(table_types(text, "## Server → client events")) >= 8


def test_every_core_type_exists_in_messages() -> None:
    text = core_text()
    assert table_types(text, "## Client → server") <= tags(CLIENT_REQUEST_TYPES)
    assert table_types(text, "## Server → client events") <= tags(SERVER_EVENT_TYPES)


def test_every_core_type_appears_in_protocol_md() -> None:
    text = core_text()
    doc = DOC.read_text(encoding="utf-8")
    for name in table_types(text, "## Client → server") | table_types(
        text, "## Server → client events"
    ):
        assert f"`{name}`" in doc, name


def test_core_sections_copied_unchanged() -> None:
    text = core_text()
    doc = DOC.read_text(encoding="utf-8")
    core_body = text[text.index("## Framing") :].strip()
    assert core_body in doc


def test_every_error_code_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for code in ErrorCode:
        assert f"`{code.value}`" in doc, f"error code {code.value} is not in docs/protocol.md"


def test_extensions_heading_present() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert "\n## Extensions\n" in doc
    assert "protocol.schema.json" in doc


def doc_json_examples() -> list[dict[str, object]]:
    """Every JSON line in the ```json blocks of docs/protocol.md."""
    import json

    doc = DOC.read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```json\n(.*?)```", doc, flags=re.S):
        for line in block.splitlines():
            if line.strip():
                out.append(json.loads(line))
    return out


def test_doc_examples_are_valid_messages() -> None:
    """Each example is a valid message of one side, each ``ok`` fits the reply type of the
    example request with its id, and every core type has an example."""
    from tests.helpers.wire import CLIENT_MESSAGE, SERVER_MESSAGE, check_server_message

    examples = doc_json_examples()
    request_tags = tags(CLIENT_REQUEST_TYPES)
    requests = {e["id"]: e["type"] for e in examples if e["type"] in request_tags and "id" in e}
    for example in examples:
        if example["type"] in ("ok", "error"):
            check_server_message(example, requests.get(example.get("id")))
        else:
            assert CLIENT_MESSAGE.is_valid(example) or SERVER_MESSAGE.is_valid(example), example
    seen = {e["type"] for e in examples}
    core = core_text()
    assert table_types(core, "## Client → server") <= seen
    assert table_types(core, "## Server → client events") <= seen
    assert {"ok", "error"} <= seen
