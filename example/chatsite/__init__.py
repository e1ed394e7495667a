"""The channels-warden demo site: settings, URLs and the ASGI application."""
