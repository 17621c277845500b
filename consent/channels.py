"""The disclosure channels of Art. 39 para. 1-2: who may use which, and what an agency may ask
(Art. 40 para. 1, Art. 69 para. 2).

Each inquiry channel admits one role holding one scope (:data:`ADMISSIONS`); every other caller
is refused citing Art. 39 para. 2, which says whom each channel serves - so regulators never
read credit data and providing units never read through an inquiry channel. Lawful public
disclosure is anonymous and admits everyone.

Denials, each a :class:`~consent.errors.ChannelDeniedError` (403) naming its article:

============================  ================  ===========================================
reason                        article           the inquiry...
============================  ================  ===========================================
``role_not_admitted``         Art. 39 para. 2   comes from a role the channel does not serve
``scope_missing``             Art. 39 para. 2   comes with a token without the channel's scope
``outside_sharing_scope``     Art. 39 para. 2   (sharing) is made by an agency without a sector,
                                                or asks for a category the catalog does not
                                                share with the agency's sector
``duty_missing``              Art. 40 para. 1   (sharing) states no duty it serves
``legal_basis_missing``       Art. 40 para. 1   (authority) states no legal basis
``legal_basis_foreign``       Art. 39 para. 2   (authority) states a legal basis that is not
                                                one of the agency's registered bases: not
                                                an inquiry on the basis of its authority
``legal_basis_not_in_force``  Art. 40 para. 1   (authority) states a registered basis that is
                                                not in force: not yet valid, expired or
                                                withdrawn
``case_reference_missing``    Art. 40 para. 1   (authority) states no case reference
``outside_legal_basis``       Art. 40 para. 1   (authority) asks for a category the basis does
                                                not allow
============================  ================  ===========================================

An agency is served only the categories it asked for (:func:`narrow`), and what it receives is
for the stated duty only (:data:`USE_RESTRICTION`, Art. 40 para. 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import NoReturn

from consent.clients import Role
from consent.errors import ChannelDeniedError, Reason
from redaction.catalog import Catalog, ScopeCategory, Sector
from redaction.engine import CreditView
from redaction.policies import Channel

WHOM_CHANNELS_SERVE = "Art. 39 para. 2"
DUTY_ONLY = "Art. 40 para. 1"
USE_RESTRICTION = (
    "Obtained through government affairs sharing or an inquiry based on authority: to be used "
    "only within the scope of performing the stated duties and not to be publicly disclosed "
    "without authorization (Art. 40 para. 1; Art. 69 para. 2)."
)


@dataclass(frozen=True)
class Admission:
    role: Role
    scope: str


ADMISSIONS: Mapping[Channel, Admission] = {
    Channel.AUTHORIZED: Admission(Role.ESTABLISHMENT, "inquiry:authorized"),
    Channel.SHARING: Admission(Role.AGENCY, "inquiry:sharing"),
    Channel.AUTHORITY: Admission(Role.AGENCY, "inquiry:authority"),
    Channel.SELF: Admission(Role.CITIZEN, "report:read"),
}


def admit(channel: Channel, role: Role, scope: frozenset[str]) -> None:
    """Raise unless ``role`` holding ``scope`` may inquire through ``channel``."""
    admission = ADMISSIONS.get(channel)
    if admission is None or role is not admission.role:
        _deny(
            f"the {channel.value} channel does not serve this role",
            Reason.ROLE_NOT_ADMITTED,
            WHOM_CHANNELS_SERVE,
        )
    if admission.scope not in scope:
        _deny(
            f"the {channel.value} channel needs the {admission.scope} scope",
            Reason.SCOPE_MISSING,
            WHOM_CHANNELS_SERVE,
        )


def shared_categories(catalog: Catalog, sector: Sector) -> frozenset[ScopeCategory]:
    """The categories of the catalog items whose sharing scope names ``sector``."""
    return frozenset(item.scope_category for item in catalog.items if sector in item.sharing_scope)


def check_sharing(
    sector: str | None, duty: str, asked: frozenset[ScopeCategory], catalog: Catalog
) -> Sector:
    """The agency's sector, when the inquiry states the duty it serves and every category asked
    for is shared with the sector."""
    known = {member.value: member for member in Sector}
    if sector not in known:
        _deny(
            "the agency has no sector the catalog shares with",
            Reason.OUTSIDE_SHARING_SCOPE,
            WHOM_CHANNELS_SERVE,
        )
    if not asked or asked - shared_categories(catalog, known[sector]):
        _deny(
            "a category asked for is not shared with the agency's sector",
            Reason.OUTSIDE_SHARING_SCOPE,
            WHOM_CHANNELS_SERVE,
        )
    if not duty.strip():
        _deny(
            "government affairs sharing states the duty it serves", Reason.DUTY_MISSING, DUTY_ONLY
        )
    return known[sector]


def check_authority(
    legal_basis: str | None,
    case_reference: str | None,
    asked: frozenset[ScopeCategory],
    registered: Mapping[str, frozenset[ScopeCategory]],
    lapsed: frozenset[str] = frozenset(),
) -> frozenset[ScopeCategory]:
    """The categories the inquiry may see: those asked for (all the basis allows when none are
    named), if the basis is one of the agency's ``registered`` ones in force and a case is
    stated. ``lapsed``: the agency's bases that are registered but not in force today."""
    if not legal_basis:
        _deny(
            "an inquiry based on authority states its legal basis",
            Reason.LEGAL_BASIS_MISSING,
            DUTY_ONLY,
        )
    if legal_basis in lapsed:
        _deny(
            "the legal basis is not in force: not yet valid, expired or withdrawn",
            Reason.LEGAL_BASIS_NOT_IN_FORCE,
            DUTY_ONLY,
        )
    allowed = registered.get(legal_basis)
    if allowed is None:
        _deny(
            "the legal basis is not one registered for this agency",
            Reason.LEGAL_BASIS_FOREIGN,
            WHOM_CHANNELS_SERVE,
        )
    if not (case_reference or "").strip():
        _deny(
            "an inquiry based on authority states its case reference",
            Reason.CASE_REFERENCE_MISSING,
            DUTY_ONLY,
        )
    categories = asked or allowed
    if not categories or categories - allowed:
        _deny(
            "a category asked for is beyond the legal basis", Reason.OUTSIDE_LEGAL_BASIS, DUTY_ONLY
        )
    return categories


def narrow(view: CreditView, categories: frozenset[ScopeCategory]) -> CreditView:
    """``view`` with only the items of ``categories``, and the redactions about those."""
    items = tuple(item for item in view.items if item.scope_category in categories)
    kept = {item.record_id for item in items}
    redactions = tuple(
        entry for entry in view.redactions if entry.record_id is None or entry.record_id in kept
    )
    return replace(view, items=items, redactions=redactions)


def _deny(detail: str, reason: Reason, article: str) -> NoReturn:
    raise ChannelDeniedError(detail, reason=reason, article=article)
