"""Storage wiring: engines, the request's unit of work, and schema migrations."""
