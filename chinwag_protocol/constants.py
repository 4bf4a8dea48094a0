"""Protocol-wide constants and default limits (every limit is overridable in config)."""

from typing import Final

PROTOCOL_VERSION: Final = 1
DEFAULT_PORT: Final = 7447
#: where the TLS listener is, when the server has one
DEFAULT_TLS_PORT: Final = 7448
DEFAULT_HOST: Final = "127.0.0.1"
#: Longest line (bytes, without the newline) a peer may send.  A security
#: limit: the decoder never buffers more than this.
DEFAULT_MAX_LINE: Final = 64 * 1024
#: Longest `text` of a `say` / `msg`, in characters.
DEFAULT_MAX_TEXT: Final = 4000
MAX_NICK_LEN: Final = 24
MAX_ROOM_LEN: Final = 32
MAX_TOPIC_LEN: Final = 390
MAX_REASON_LEN: Final = 200
#: `history` returns at most this many messages per page.
MAX_HISTORY_PAGE: Final = 200
DEFAULT_HISTORY_PAGE: Final = 50
DEFAULT_ROOM: Final = "lobby"
