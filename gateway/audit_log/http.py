"""What a log's or a witness's HTTP answer says when it refuses (RFC 9457 problem documents)."""

from __future__ import annotations

import httpx


def problem_detail(response: httpx.Response) -> str:
    """The ``detail`` of a problem document, else the body's text, else the status phrase."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return detail if isinstance(detail, str) else response.text.strip() or response.reason_phrase
