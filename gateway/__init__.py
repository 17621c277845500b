"""The HTTP service: composes ``consent``, ``redaction`` and ``audit`` into the gateway."""
