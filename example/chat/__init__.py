"""The demo's app: rooms and messages, the chat's consumers and HTTP API, and the first echo demo."""
