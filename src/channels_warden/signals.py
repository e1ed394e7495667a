"""Signals for observability. Receivers may be sync or async; they are sent with ``asend``.

=======================  =====================================================================
``connection_admitted``  ``scope``, ``auth``: a socket passed the handshake and was accepted
``connection_rejected``  ``scope``, ``code``, ``reason``, ``detail``: a handshake was refused
``connection_refreshed`` ``scope``, ``auth``: an in-band refresh extended a live socket
``connection_revoked``   ``scope``, ``auth``, ``reason``: a revocation closed a live socket
``connection_closed``    ``scope``, ``auth``, ``code``: a live socket ended, for any reason
=======================  =====================================================================

``detail`` says which check failed; it never contains the credential.
"""

from __future__ import annotations

from django.dispatch import Signal

connection_admitted = Signal()
connection_rejected = Signal()
connection_refreshed = Signal()
connection_revoked = Signal()
connection_closed = Signal()
