"""Signals for observability. Receivers may be sync or async; they are sent with ``asend``.

=======================  =====================================================================
``connection_admitted``  ``scope``, ``auth``: a socket passed the handshake and was accepted
``connection_rejected``  ``scope``, ``code``, ``reason``, ``detail``: a handshake was refused
``connection_refreshed`` ``scope``, ``auth``: an in-band refresh extended a live socket
``connection_revoked``   ``scope``, ``auth``, ``reason``: a revocation closed a live socket
``connection_closed``    ``scope``, ``auth``, ``code``: a live socket ended, for any reason
=======================  =====================================================================

``detail`` says which check failed; it never contains the credential.

The sender is always :class:`~channels_warden.connection.Connection`. The signals cache their
receivers per sender (``use_caching``), so a handshake asks "does anyone listen?" with a dictionary
lookup and sends nothing when nobody does.
"""

from __future__ import annotations

from django.dispatch import Signal

connection_admitted = Signal(use_caching=True)
connection_rejected = Signal(use_caching=True)
connection_refreshed = Signal(use_caching=True)
connection_revoked = Signal(use_caching=True)
connection_closed = Signal(use_caching=True)
