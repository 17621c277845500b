"""How the gateway refers to a credit subject internally (Art. 34, 40).

Every table but the archive's own index refers to a subject by its ``subject_key``: a keyed
pseudonym of the subject's archive index under the gateway's own pseudonym secret, fixed at
version 1 so that it survives the rotation of requesters' pseudonyms. Without the secret it
cannot be recomputed from a guessed ID number, so grants, audit openings and logs that hold it
hold no identifier.
"""

from __future__ import annotations

from gateway.keys import GatewayKeys
from redaction.identifiers import SubjectIdentifier
from redaction.pseudonym import pseudonym

INTERNAL_REQUESTER = "credit-gateway/archive"
INTERNAL_VERSION = 1


def subject_key(keys: GatewayKeys, identifier: SubjectIdentifier) -> str:
    return pseudonym(
        keys.pseudonyms.master_key, INTERNAL_REQUESTER, identifier.key, INTERNAL_VERSION
    )


def requester_pseudonym(keys: GatewayKeys, requester_id: str, identifier: SubjectIdentifier) -> str:
    """The subject as one requester may see it: unlinkable across requesters, rotatable."""
    return keys.pseudonyms.pseudonym(requester_id, identifier.key)


ACTOR_REQUESTER = "credit-gateway/actor"


def actor_pseudonym(keys: GatewayKeys, identifier: SubjectIdentifier) -> str:
    """A natural person acting for an entity, as the audit log names them: a keyed pseudonym
    of their archive index, unlinkable to their own subject key without the secret."""
    return pseudonym(keys.pseudonyms.master_key, ACTOR_REQUESTER, identifier.key, INTERNAL_VERSION)
