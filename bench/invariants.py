"""What must hold after load, a crash or two processes, read from the database itself.

Each check compares the load's journal (what the gateway acknowledged, :mod:`bench.load`) with
the stored state and returns the problems it found (none: it holds):

* :func:`answers_in_log` - every inquiry answered 200 has its leaf in the log: the stored leaf
  at the answer's ``leaf_index`` hashes to the answer's ``leaf_hash``, registers an allowed
  inquiry of the same channel, and no two answers share an index (Art. 39 para. 3);
* :func:`consents_as_acknowledged` - every grant the load decided on is in the state of its last
  acknowledged decision (or of a decision whose answer was lost in a crash); its use count is
  at least the inquiries answered under it and at most the allowed inquiries the log holds for
  it; and no inquiry was served after its revocation was acknowledged (Art. 61(2));
* :func:`records_as_acknowledged` - every batch and correction acknowledged is stored, and no
  record of the load is stored that was neither acknowledged nor lost in a crash (Art. 61(3));
* :class:`Snapshot` - what existed before the load (the demo archive, parties, grants) is
  byte for byte what is stored now;
* :func:`secrets_in` - a server's output holds no token, assertion, key, password or ID number;
  :func:`failures_in` - nor any error or traceback.
"""

from __future__ import annotations

import base64
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, select

from audit.leaf import Channel, Outcome, decode
from audit.merkle import leaf_hash
from bench.load import RECORD_PREFIX, Exchange
from gateway.archive.models import CreditSubject, RecordRow, RecordVersionRow
from gateway.audit_log.models import table
from gateway.audit_log.repository import log_size, read_leaves
from gateway.consents.models import GrantRow
from gateway.parties.models import Party
from redaction.identifiers import resembles_id_number

CHANNELS: Mapping[str, Channel] = {
    "authorized": Channel.AUTHORIZED_INQUIRY,
    "sharing": Channel.GOVERNMENT_AFFAIRS_SHARING,
    "authority": Channel.INQUIRY_BASED_ON_AUTHORITY,
    "self": Channel.REAL_NAME_VERIFIED_INQUIRY,
    "public": Channel.LAWFUL_PUBLIC_DISCLOSURE,
}
DECISIONS = ("consent.approve", "consent.pause", "consent.resume", "consent.revoke")
GRANTS, RECORDS, VERSIONS = table(GrantRow), table(RecordRow), table(RecordVersionRow)
SNAPSHOT_TABLES = (GRANTS, RECORDS, VERSIONS, table(CreditSubject), table(Party))


def answered(exchanges: Iterable[Exchange]) -> list[Exchange]:
    """The inquiries answered 200, with their audit receipts."""
    return [e for e in exchanges if e.status == 200 and e.leaf is not None]


def answers_in_log(leaves: Sequence[bytes], exchanges: Sequence[Exchange]) -> list[str]:
    served = answered(exchanges)
    problems = [
        f"leaf index {index} was given to {count} answers"
        for index, count in Counter(e.leaf[0] for e in served if e.leaf).items()
        if count > 1
    ]
    size = len(leaves)
    for exchange in served:
        assert exchange.leaf is not None
        index, hashed = exchange.leaf
        if index >= size:
            problems.append(f"{exchange.op} answered with leaf {index}, beyond the log ({size})")
            continue
        leaf = leaves[index]
        if base64.b64encode(leaf_hash(leaf)).decode() != hashed:
            problems.append(f"{exchange.op} answered with leaf {index}, which holds another")
            continue
        event = decode(leaf)
        if event.outcome is not Outcome.ALLOWED or event.channel is not CHANNELS[exchange.op]:
            problems.append(f"leaf {index} of a served {exchange.op} registers {event}")
    return problems


def consents_as_acknowledged(
    connection: Connection, leaves: Sequence[bytes], exchanges: Sequence[Exchange]
) -> list[str]:
    by_grant: dict[str, list[Exchange]] = defaultdict(list)
    for exchange in sorted(exchanges, key=lambda e: e.started):
        if exchange.grant is not None:
            by_grant[exchange.grant].append(exchange)
    if not by_grant:
        return []
    rows = {
        row.grant_id: row
        for row in connection.execute(
            select(GRANTS.c.grant_id, GRANTS.c.state, GRANTS.c.uses).where(
                GRANTS.c.grant_id.in_(list(by_grant))
            )
        )
    }
    allowed_leaves = _allowed_inquiries_by_grant(leaves)
    problems = []
    for grant, history in by_grant.items():
        row = rows.get(grant)
        if row is None:
            problems.append(f"grant {grant} was acknowledged and is not stored")
            continue
        states = _possible_states(history)
        if row.state not in states:
            problems.append(f"grant {grant} is {row.state}; acknowledged: one of {sorted(states)}")
        served = sum(1 for e in history if e.op == "authorized" and e.status == 200)
        if not served <= row.uses <= allowed_leaves[grant]:
            problems.append(
                f"grant {grant} counts {row.uses} uses for {served} answers "
                f"and {allowed_leaves[grant]} allowed inquiries in the log"
            )
        problems.extend(_served_after_revocation(grant, history))
    return problems


def _possible_states(history: Sequence[Exchange]) -> set[str]:
    """The last acknowledged decision's state, and that of any decision lost after it."""
    states = {"pending"}
    for exchange in history:
        if exchange.op not in DECISIONS or exchange.state is None:
            continue
        if exchange.ok:
            states = {exchange.state}
        elif exchange.interrupted:
            states.add(exchange.state)
    return states


def _served_after_revocation(grant: str, history: Sequence[Exchange]) -> list[str]:
    revoked = [e.started + e.ms / 1000 for e in history if e.op == "consent.revoke" and e.ok]
    if not revoked:
        return []
    return [
        f"grant {grant}: an inquiry sent {e.started - min(revoked):.3f} s after the revocation "
        "was acknowledged was served"
        for e in history
        if e.op == "authorized" and e.status == 200 and e.started > min(revoked)
    ]


def _allowed_inquiries_by_grant(leaves: Sequence[bytes]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for leaf in leaves:
        event = decode(leaf)
        if event.channel is Channel.AUTHORIZED_INQUIRY and event.outcome is Outcome.ALLOWED:
            counts[event.grant_id] += 1
    return counts


def records_as_acknowledged(
    connection: Connection, exchanges: Sequence[Exchange], provider: str
) -> list[str]:
    acknowledged: set[str] = set()
    lost: set[str] = set()
    for exchange in exchanges:
        if exchange.op == "records.submit" and exchange.records:
            (acknowledged if exchange.ok else lost).update(exchange.records)
    stored = {
        row.provider_record_id: row
        for row in connection.execute(
            select(RECORDS.c.provider_record_id, RECORDS.c.record_id, RECORDS.c.version).where(
                RECORDS.c.provider == provider,
                RECORDS.c.provider_record_id.startswith(RECORD_PREFIX),
            )
        )
    }
    problems = [
        f"record {missing} was acknowledged and is not stored"
        for missing in sorted(acknowledged - stored.keys())
    ]
    problems += [
        f"record {extra} is stored and was never submitted"
        for extra in sorted(stored.keys() - acknowledged - lost)
    ]
    versions = {row.record_id: row.version for row in stored.values()}
    for exchange in exchanges:
        if exchange.op != "records.correct" or not (exchange.ok or exchange.interrupted):
            continue
        expected: set[int | None] = {exchange.version} if exchange.ok else {1, exchange.version}
        version = versions.get(exchange.record or "")
        if version not in expected:
            problems.append(f"record {exchange.record} is at version {version}, not {expected}")
    return problems


@dataclass(frozen=True)
class Snapshot:
    """Every row of the archive, the grants and the parties at one moment, by primary key."""

    rows: Mapping[str, Mapping[tuple[Any, ...], tuple[Any, ...]]]

    @classmethod
    def take(cls, engine: Engine) -> Snapshot:
        with engine.connect() as connection:
            return cls({t.name: _rows(connection, t) for t in SNAPSHOT_TABLES})

    def changes(self, engine: Engine) -> list[str]:
        """The rows of the snapshot that are missing or differ now."""
        problems = []
        with engine.connect() as connection:
            for source in SNAPSHOT_TABLES:
                now = _rows(connection, source)
                problems += [
                    f"{source.name} {key} changed" if key in now else f"{source.name} {key} is gone"
                    for key, row in self.rows[source.name].items()
                    if now.get(key) != row
                ]
        return problems


def _rows(connection: Connection, source: Table) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    positions = [i for i, column in enumerate(source.columns) if column.primary_key]
    return {
        tuple(row[i] for i in positions): tuple(row) for row in connection.execute(select(source))
    }


def check_all(
    engine: Engine, exchanges: Sequence[Exchange], provider: str, snapshot: Snapshot
) -> list[str]:
    """Every check above, on the stored state now."""
    with engine.connect() as connection:
        leaves = read_leaves(connection, 0, log_size(connection))
        problems = answers_in_log(leaves, exchanges)
        problems += consents_as_acknowledged(connection, leaves, exchanges)
        problems += records_as_acknowledged(connection, exchanges, provider)
    return problems + snapshot.changes(engine)


JWS = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*")
ID_NUMBER_LIKE = re.compile(r"(?<![0-9A-Z])[0-9]{17}[0-9X](?![0-9A-Z])")


def secrets_in(text: str, credentials: Mapping[str, Any]) -> list[str]:
    """What a log must never hold, found in ``text``: a token or client assertion (any JWS), a
    persona's private key, the citizen's password, an ID number or a demo subject's code. The
    finding names the kind, never the secret."""
    found = [f"a JWS at offset {match.start()}" for match in JWS.finditer(text)]
    found += [
        f"an ID number at offset {match.start()}"
        for match in ID_NUMBER_LIKE.finditer(text)
        if resembles_id_number(match.group())
    ]
    named = {
        "the citizen's password": credentials["citizen"]["password"],
        **{
            f"the {persona}'s private key": credentials[persona]["private_jwk"]["d"]
            for persona in (
                "establishment",
                "establishment_dpop",
                "agency",
                "provider",
                "regulator",
            )
        },
        **{
            f"the credit code of a demo subject ({n})": code
            for n, code in enumerate(credentials["subjects"]["legal_persons"])
        },
    }
    return found + [f"{name} in the log" for name, secret in named.items() if secret in text]


FAILURE_MARKERS = ("Traceback", "ERROR", "unhandled error", "CRITICAL")


def failures_in(text: str) -> list[str]:
    """The lines of a server's output that report a failure."""
    return [
        f"the server logged: {line.strip()[:200]}"
        for line in text.splitlines()
        if any(marker in line for marker in FAILURE_MARKERS)
    ]
