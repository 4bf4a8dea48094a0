"""JSON Schema of the whole protocol, derived from :mod:`.messages`.

``python -m chinwag_protocol.schema`` prints it; docs/protocol.schema.json is
that output, and a test keeps the two identical.  ``$defs`` holds one schema
per message struct plus ``ClientMessage`` and ``ServerMessage`` (any message
each side may send).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import msgspec

from chinwag_protocol.messages import (
    CLIENT_REQUEST_TYPES,
    OK_REPLY_TYPES,
    SERVER_EVENT_TYPES,
    Error,
)

SCHEMA_ID = "https://chinwag.invalid/protocol.schema.json"


def build_schema() -> dict[str, Any]:
    server_types: tuple[type[msgspec.Struct], ...] = (*SERVER_EVENT_TYPES, Error, *OK_REPLY_TYPES)
    all_types = (*CLIENT_REQUEST_TYPES, *server_types)
    (_, components) = msgspec.json.schema_components(all_types, ref_template="#/$defs/{name}")

    def refs(types: tuple[type[msgspec.Struct], ...]) -> list[dict[str, str]]:
        return [{"$ref": f"#/$defs/{t.__name__}"} for t in types]

    defs: dict[str, Any] = dict(sorted(components.items()))
    defs["ClientMessage"] = {"anyOf": refs(CLIENT_REQUEST_TYPES)}
    defs["ServerMessage"] = {"anyOf": refs(server_types)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Chinwag wire protocol, version 1",
        "description": "One JSON object per line. Generated from chinwag_protocol.messages.",
        "anyOf": [{"$ref": "#/$defs/ClientMessage"}, {"$ref": "#/$defs/ServerMessage"}],
        "$defs": defs,
    }


def render() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=False) + "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
