"""The console tests share the consent tests' running gateway (one per module and backend)."""

from __future__ import annotations

from tests.gateway.consents.conftest import flow, flow_settings

__all__ = ["flow", "flow_settings"]
