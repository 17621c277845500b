"""The proof tests share the inquiry tests' world: one migrated database and one running gateway
per module and backend, with the demo personas, records of every kind and an agency without a
sector (:mod:`tests.gateway.inquiries.conftest`)."""

from tests.gateway.inquiries.conftest import world, world_settings

__all__ = ["world", "world_settings"]
