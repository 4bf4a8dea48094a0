"""Chinwag's PyQt6 desktop client.

Network I/O runs on the Qt event loop through qasync (no networking threads):
:mod:`.session` owns the :class:`~chinwag_client.client.ChinwagClient` and the
reconnect loop, :mod:`.controller` turns protocol events into model updates,
:mod:`.models` hold Qt item models, and :mod:`.widgets` only present them.
"""

APP_NAME = "Chinwag"
