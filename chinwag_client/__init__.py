"""A thin asyncio client around :class:`chinwag_protocol.connection.ClientConnection`.

Used by the CLI, the GUI (on a qasync loop), the benchmark and the tests.
"""

from chinwag_client.client import ChinwagClient, ConnectionLost, RequestFailed

__all__ = ["ChinwagClient", "ConnectionLost", "RequestFailed"]
