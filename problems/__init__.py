"""RFC 9457 problem types shared by every area of the gateway.

Each area (``consent``, ``redaction``, ``audit``, ``gateway``) defines its own family of
errors as subclasses of :class:`GatewayError`. The HTTP layer renders every one of them as
``application/problem+json``; nothing else needs to know about HTTP.
"""

from __future__ import annotations

from typing import ClassVar

PROBLEM_BASE_URI = "https://gateway.example/problems/"

REMEDY: dict[str, object] = {
    "article": "Art. 71",
    "means": ["administrative_reconsideration", "administrative_litigation"],
    "zh": "认为本行为侵犯您合法权益的，可以依法申请行政复议或者提起行政诉讼。",
    "en": (
        "If you consider that this act violates your lawful rights and interests, you may apply "
        "for administrative reconsideration or bring an administrative lawsuit in accordance "
        "with law."
    ),
}
"""Art. 71: what a credit subject can do about a refusal of their request or an objection's
answer - told with each (the problem's ``remedy`` member, the answered objection's)."""


class GatewayError(Exception):
    """Base of every error the gateway reports to a caller.

    Subclasses set ``status``, ``title`` and ``slug`` (the last part of the type URI); a
    policy denial also sets ``article``, the provision of the regulation it applies
    (e.g. ``"Art. 61(2)"``). ``detail`` says what was wrong in this instance; it must never
    contain personal data, secrets or internal state.
    """

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    slug: ClassVar[str] = "bad-request"
    article: ClassVar[str | None] = None
    response_headers: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        detail: str,
        *,
        article: str | None = None,
        reason: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.instance_article = article or type(self).article
        self.reason = reason or type(self).slug
        self.extra = extra or {}
        self.headers = dict(type(self).response_headers)

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled as its state, not re-made from its arguments (keyword-only ones among
        them): a refusal crosses processes whole (the log's writer process returns it)."""
        return _restored, (type(self), self.args, self.__dict__)

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE_URI + self.slug

    def to_problem(self) -> dict[str, object]:
        """The RFC 9457 body: type, title, status, detail, and the article when there is one."""
        body: dict[str, object] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.instance_article:
            body["article"] = self.instance_article
        body.update(self.extra)
        return body


def _restored(
    kind: type[GatewayError], args: tuple[object, ...], state: dict[str, object]
) -> GatewayError:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


class InvalidInput(GatewayError):
    status = 422
    title = "Invalid input"
    slug = "invalid-input"


class NotFound(GatewayError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(GatewayError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class Unauthenticated(GatewayError):
    status = 401
    title = "Authentication required"
    slug = "unauthenticated"
    response_headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012


class Forbidden(GatewayError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class PolicyDenied(GatewayError):
    """A request the regulation forbids. Always names the article it applies."""

    status = 403
    title = "Denied by policy"
    slug = "policy-denied"


class ServiceUnavailable(GatewayError):
    status = 503
    title = "Service unavailable"
    slug = "service-unavailable"
