"""The Chinwag asyncio chat server."""

__version__ = "0.1.0"
