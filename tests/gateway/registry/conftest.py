"""The API tests of the registry share the inquiry tests' world: one migrated database and one
running gateway per module and backend, with the demo agency and the citizen's file."""

from tests.gateway.inquiries.conftest import world, world_settings

__all__ = ["world", "world_settings"]
