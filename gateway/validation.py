"""What every request must look like before a route sees it: one place, for every schema.

* :class:`StrictBody` is the base of every request body: ``strict=True`` (``true``, ``"30"``
  and ``30.0`` are no integer) and ``extra="forbid"`` (an unknown member is refused, never
  ignored).
* :data:`Text` and :data:`Identifier` are the string types of every input - body members,
  form fields, path and query parameters: :func:`problems.text.refuse_unreadable` refuses
  control characters in both, and format characters and line breaks in identifiers.
* :class:`StrictRoute`, the route class of every router, reads a JSON body itself: a member
  named twice is refused (``json.loads`` would keep the last one silently), and the body is
  validated in JSON mode, where a date or an enumeration is a string but an integer is no
  string. Its problems are answered where the framework answers a body's: after the route's
  dependencies, so a caller without credentials learns nothing of the schema.

Each refusal is the 422 problem of :mod:`gateway.problem_handlers`, with the location of the
problem and never the value.

Adopting them in a new schema::

    from gateway.validation import Identifier, StrictBody, Text

    class ThingIn(StrictBody):
        thing_id: Identifier = Field(max_length=64)
        note: Text = Field(max_length=500)

    router = APIRouter(route_class=StrictRoute)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from starlette.responses import Response

from problems.text import refuse_unreadable


class StrictBody(BaseModel):
    """The base of every request body: no coercion, no unknown member."""

    model_config = ConfigDict(strict=True, extra="forbid")


def _text(value: str) -> str:
    return refuse_unreadable(value, single_line=False)


def _identifier(value: str) -> str:
    return refuse_unreadable(value, single_line=True)


Text = Annotated[str, AfterValidator(_text)]
"""Free text: no control character but tab, line feed and carriage return."""
Identifier = Annotated[str, AfterValidator(_identifier)]
"""An identifier or a code: no control, format or line-break character."""


class DuplicateMember(ValueError):
    """A JSON object names a member twice."""


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise DuplicateMember("a member is named twice in one object")
    return members


def _parse_json(raw: bytes | str) -> Any:
    """JSON as the gateway reads it from outside: a member named twice is refused."""
    return json.loads(raw, object_pairs_hook=_unique_members)


_UNCHECKED = object()
_REFUSED = object()
"""What a refused body reads as: no model, so the framework refuses it too - after the route's
dependencies, as it refuses any body: who is calling is decided before what they sent."""
_BODY_ERRORS = "strict_body_errors"


class _CheckedRequest(Request):
    """A request whose JSON body :class:`StrictRoute` has already read and checked."""

    checked: Any = _UNCHECKED

    async def json(self) -> Any:
        return await super().json() if self.checked is _UNCHECKED else self.checked


class StrictRoute(APIRoute):
    """A route whose :class:`StrictBody` JSON body is refused with a member named twice, and
    validated in JSON mode under the model's strict rules. The problems are reported where the
    framework reports a body's (:func:`body_errors`), after the route's dependencies ran."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        model = self._strict_body()
        if model is None:
            return handle

        async def strict_handler(request: Request) -> Response:
            return await handle(await read_checked(model, request))

        return strict_handler

    def _strict_body(self) -> type[StrictBody] | None:
        annotation = None if self.body_field is None else self.body_field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, StrictBody):
            return annotation
        return None


async def read_checked(model: type[StrictBody], request: Request) -> Request:
    """``request`` with its JSON body read and checked against ``model``, once per request
    (:func:`checked_body` is the outcome)."""
    if isinstance(request, _CheckedRequest):
        return request
    checked = _CheckedRequest(request.scope, request.receive)
    if _is_json(checked):
        body = await checked.body()
        if body:
            checked.checked = _check(model, body, checked)
    return checked


def checked_body(request: Request) -> StrictBody | None:
    """The body :func:`read_checked` found valid, or None (none, refused, or no JSON)."""
    found = getattr(request, "checked", None)
    return found if isinstance(found, StrictBody) else None


def body_errors(request: Request, errors: Sequence[Any]) -> list[Any]:
    """The errors of a refused request, with the strict body's own in place of the framework's
    refusal of :data:`_REFUSED`."""
    strict: list[Any] | None = getattr(request.state, _BODY_ERRORS, None)
    if strict is None:
        return list(errors)
    return [error for error in errors if tuple(error["loc"]) != ("body",)] + strict


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _check(model: type[StrictBody], body: bytes, request: Request) -> Any:
    """The validated body; or, refused, :data:`_REFUSED` with its errors kept on the request;
    or, when it is no JSON at all, :data:`_UNCHECKED` (the framework answers that itself)."""
    errors: list[dict[str, Any]]
    try:
        _parse_json(body)
    except DuplicateMember as exc:
        errors = [{"type": "value_error", "loc": ("body",), "msg": str(exc)}]
    except (ValueError, RecursionError):
        return _UNCHECKED
    else:
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
    setattr(request.state, _BODY_ERRORS, errors)
    return _REFUSED
