"""A client of a gateway's audit API, for verifiers and witnesses (RFC 9162, C2SP checkpoints).

It fetches exactly what :mod:`gateway.routes.audit` serves and trusts none of it: every
checkpoint is opened with the caller's keys and every proof is verified by the caller.
Failures to fetch raise :class:`~gateway.audit_log.errors.LogUnreachable`; a malformed body
raises the :mod:`audit.errors` error of the malformed thing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx

from audit.errors import MalformedNote
from audit.note import decode_base64
from gateway.audit_log.errors import LogUnreachable
from gateway.audit_log.http import problem_detail
from gateway.audit_log.service import MAX_LEAVES_PAGE

PREFIX = "/v1/audit"


class LogClient:
    """Reads one log over HTTP; the bearer ``token`` (a regulator's) is needed for leaves."""

    def __init__(self, http: httpx.Client, token: str | None = None) -> None:
        self.http = http
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    @classmethod
    def connect(cls, url: str, token: str | None = None) -> LogClient:
        return cls(httpx.Client(base_url=url, timeout=30.0), token)

    def close(self) -> None:
        self.http.close()

    def checkpoint(self) -> str:
        return self._get("/checkpoint").text

    def submit_cosignature(self, note: str) -> None:
        """Hand a witness's cosigned note to the log, which serves it with its checkpoint."""
        path = "/cosignatures"
        headers = {**self._headers, "Content-Type": "text/plain; charset=utf-8"}
        try:
            response = self.http.post(PREFIX + path, content=note.encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise LogUnreachable(f"{PREFIX}{path}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise LogUnreachable(
                f"{PREFIX}{path} answered {response.status_code}: {problem_detail(response)}"
            )

    def verifier_key(self) -> str:
        return self._get("/verifier-key").text.strip()

    def consistency(self, from_size: int, to_size: int) -> list[bytes]:
        params = {"from_size": from_size, "to_size": to_size}
        return self._list("/proofs/consistency", params, "hashes")

    def leaves(self, start: int, end: int) -> list[bytes]:
        return self._list("/leaves", {"start": start, "end": end}, "leaves")

    def iter_leaves(self, size: int, page: int = MAX_LEAVES_PAGE) -> Iterator[bytes]:
        """Leaves ``[0, size)``, one request per page."""
        for start in range(0, size, page):
            yield from self.leaves(start, min(start + page, size))

    def _list(self, path: str, params: dict[str, int], key: str) -> list[bytes]:
        try:
            values = json.loads(self._get(path, params).text)[key]
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedNote(f"{PREFIX}{path} did not answer {{{key!r}: [...]}}") from exc
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise MalformedNote(f"{PREFIX}{path} did not answer a list of base64 strings")
        return [decode_base64(value) for value in values]

    def _get(self, path: str, params: dict[str, int] | None = None) -> httpx.Response:
        try:
            response = self.http.get(PREFIX + path, params=params, headers=self._headers)
        except httpx.HTTPError as exc:
            raise LogUnreachable(f"{PREFIX}{path}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise LogUnreachable(
                f"{PREFIX}{path} answered {response.status_code}: {problem_detail(response)}"
            )
        return response
