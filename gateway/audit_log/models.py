"""Tables of the audit log (Art. 39 para. 3, Art. 61(3)); hashing per RFC 9162 section 2.1.

* ``audit_leaves`` — the leaves, by index: the exact bytes the tree hashes. Append-only.
* ``audit_hashes`` — the stored hashes in the tlog layout of :mod:`audit.tlog` (leaf hashes
  and the hash of every complete subtree), by stored-hash index. Append-only.
* ``audit_checkpoints`` — every signed C2SP checkpoint, by tree size (sizes strictly grow).
* ``audit_openings`` — the salts that open a leaf's commitments, and the internal key of the
  subject (:mod:`gateway.subjects`, a keyed pseudonym) by which the subject's access log finds
  the leaves about them (Art. 63). Retention may delete these rows (making the commitments
  unlinkable forever); nothing in the log refers to them.
* ``audit_cosignatures`` — the witnesses' C2SP tlog-cosignature lines on a stored checkpoint,
  by tree size and witness verifier key (one per pair), each verified before it was stored;
  served after the log's own signature lines.
* ``audit_verifications`` — the outcome of each ``gateway audit verify --local`` run on this
  database: when, whether it passed, the tree size verified or what failed.

Indexes are 64-bit integers; on SQLite they are ``INTEGER PRIMARY KEY`` (the rowid), so an
append writes one B-tree per table instead of two.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, Integer, LargeBinary, String, Table, Text
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime

LOG_INDEX = BigInteger().with_variant(Integer(), "sqlite")


def _index_column(name: str) -> Column[int]:
    return Column(name, LOG_INDEX, primary_key=True, autoincrement=False)


def _time_column() -> Column[datetime]:
    return Column(UTCDateTime, nullable=False)


class AuditLeaf(SQLModel, table=True):
    """Leaf ``leaf_index`` of the log: canonical event bytes (:mod:`audit.leaf`)."""

    __tablename__ = "audit_leaves"

    leaf_index: int = Field(sa_column=_index_column("leaf_index"))
    leaf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=_time_column())


class AuditHash(SQLModel, table=True):
    """Stored hash ``hash_index`` (:func:`audit.tlog.stored_hash_index`), 32 bytes."""

    __tablename__ = "audit_hashes"

    hash_index: int = Field(sa_column=_index_column("hash_index"))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AuditCheckpoint(SQLModel, table=True):
    """A signed checkpoint (C2SP tlog-checkpoint as a signed note) of ``tree_size`` leaves."""

    __tablename__ = "audit_checkpoints"

    tree_size: int = Field(sa_column=_index_column("tree_size"))
    note: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_time_column())


class AuditOpening(SQLModel, table=True):
    """The salts of leaf ``leaf_index``'s subject and response commitments (Art. 63), and the
    subject's internal key when the entry belongs in the subject's access log."""

    __tablename__ = "audit_openings"

    leaf_index: int = Field(sa_column=_index_column("leaf_index"))
    subject_salt: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    response_salt: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    subject_key: str | None = Field(default=None, sa_column=Column(String(64), index=True))


class AuditCosignature(SQLModel, table=True):
    """A witness's cosignature line on the checkpoint of ``tree_size``, verified on receipt."""

    __tablename__ = "audit_cosignatures"

    tree_size: int = Field(sa_column=_index_column("tree_size"))
    witness_key: str = Field(sa_column=Column(String(255), primary_key=True))
    signature_line: str = Field(sa_column=Column(Text, nullable=False))
    cosigned_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(sa_column=_time_column())


class AuditVerification(SQLModel, table=True):
    """One run of the local verifier: passed with ``tree_size`` leaves, or failed (``detail``)."""

    __tablename__ = "audit_verifications"

    verification_id: int | None = Field(default=None, primary_key=True)
    verified_at: datetime = Field(sa_column=_time_column())
    passed: bool = Field(sa_column=Column(Boolean, nullable=False))
    tree_size: int | None = Field(default=None, sa_column=Column(BigInteger))
    detail: str = Field(sa_column=Column(String(500), nullable=False))


def table(model: type[SQLModel]) -> Table:
    """The Core table of a model, for the executemany inserts of the log."""
    core = model.__table__  # type: ignore[attr-defined]
    assert isinstance(core, Table)
    return core


LEAVES = table(AuditLeaf)
HASHES = table(AuditHash)
CHECKPOINTS = table(AuditCheckpoint)
OPENINGS = table(AuditOpening)
COSIGNATURES = table(AuditCosignature)
VERIFICATIONS = table(AuditVerification)
