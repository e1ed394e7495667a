"""The demo's app: a login page, token endpoints and a protected echo socket."""
