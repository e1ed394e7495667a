"""``manage.py warden_explain``: a handshake decided step by step, without opening a socket.

:mod:`.request` turns flags, a raw HTTP request or a "copy as cURL" command into a scope;
:mod:`.routes` follows its path through the project's ASGI application; :mod:`.pipeline` runs
warden's own checks on it and records each step; :mod:`.masking` keeps every secret out of the
output.
"""
