"""Chinwag's wire protocol, with no I/O: message types, framing, codec, validation.

The server, the GUI, the CLI and the benchmark all speak through this package,
so every message shape is defined exactly once (in :mod:`.messages`).
Nothing here imports asyncio or touches a socket: feed bytes in, get typed
messages out, and ask for the bytes to send (the python-websockets / h11 style).
"""

from chinwag_protocol.constants import DEFAULT_MAX_LINE, DEFAULT_PORT, PROTOCOL_VERSION
from chinwag_protocol.errors import ErrorCode, FrameError, ProtocolError, RequestError

__all__ = [
    "DEFAULT_MAX_LINE",
    "DEFAULT_PORT",
    "PROTOCOL_VERSION",
    "ErrorCode",
    "FrameError",
    "ProtocolError",
    "RequestError",
]
