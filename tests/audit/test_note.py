"""C2SP signed-note and tlog-cosignature: signing, fail-closed opening, rotation, witnesses."""

from __future__ import annotations

import base64
from hashlib import sha256

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.errors import MalformedNote, UntrustedNote
from audit.note import (
    KeyType,
    NoteSigner,
    NoteVerifier,
    cosign,
    cosigned_message,
    open_note,
    parse_verifier_key,
    sign_note,
    split_note,
    verify_cosignature,
)
from tests.audit.factories import log_signer, witness

TEXT = "gateway.test/credit-audit\n13\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
SEED = bytes(range(32))


def test_key_id_and_verifier_key_follow_the_spec() -> None:
    signer = NoteSigner("example.com/log", Ed25519PrivateKey.from_private_bytes(SEED))
    verifier = signer.verifier()
    public = verifier.public_key
    assert verifier.key_id == sha256(b"example.com/log\n\x01" + public).digest()[:4]
    encoded = base64.b64encode(b"\x01" + public).decode()
    assert verifier.vkey == f"example.com/log+{verifier.key_id.hex()}+{encoded}"
    assert parse_verifier_key(verifier.vkey) == verifier


def test_signature_line_layout() -> None:
    signer = log_signer()
    note = sign_note(TEXT, [signer])
    assert note.startswith(TEXT + "\n\u2014 gateway.test/credit-audit ")
    payload = base64.b64decode(note.rsplit(" ", 1)[1])
    assert payload[:4] == signer.verifier().key_id and len(payload) == 68
    signer.private_key.public_key().verify(payload[4:], TEXT.encode())


def test_open_returns_the_text_and_who_signed() -> None:
    signer = log_signer()
    opened = open_note(sign_note(TEXT, [signer]), [signer.verifier()])
    assert opened.text == TEXT
    assert [(s.name, s.key_id, s.timestamp) for s in opened.signatures] == [
        (signer.name, signer.verifier().key_id, None)
    ]


def test_a_wrong_key_is_not_trusted() -> None:
    note = sign_note(TEXT, [log_signer()])
    with pytest.raises(UntrustedNote):
        open_note(note, [log_signer().verifier()])
    with pytest.raises(UntrustedNote):
        open_note(note, [])


def test_a_tampered_body_fails() -> None:
    signer = log_signer()
    note = sign_note(TEXT, [signer])
    with pytest.raises(UntrustedNote):
        open_note(note.replace("\n13\n", "\n14\n"), [signer.verifier()])


def test_a_forged_line_with_a_trusted_name_and_key_id_fails_even_beside_a_good_one() -> None:
    signer = log_signer()
    note = sign_note(TEXT, [signer])
    key_id = signer.verifier().key_id
    forged = f"\u2014 {signer.name} {base64.b64encode(key_id + bytes(64)).decode()}\n"
    with pytest.raises(UntrustedNote):
        open_note(note + forged, [signer.verifier()])


def test_lines_of_unknown_keys_are_ignored() -> None:
    signer, stranger = log_signer(), log_signer("stranger.test/log")
    note = sign_note(TEXT, [stranger, signer])
    opened = open_note(note, [signer.verifier()])
    assert [s.name for s in opened.signatures] == [signer.name]


def test_key_rotation_overlap_verifies_with_either_key() -> None:
    old, new = log_signer(), log_signer()
    note = sign_note(TEXT, [old, new])
    for trusted in ([old.verifier()], [new.verifier()]):
        assert open_note(note, trusted).text == TEXT
    assert len(open_note(note, [old.verifier(), new.verifier()]).signatures) == 2


def test_a_cosignature_signs_time_and_body() -> None:
    signer, w = log_signer(), witness()
    note = cosign(sign_note(TEXT, [signer]), w, 1_700_000_000)
    assert verify_cosignature(note, w.verifier()) == 1_700_000_000
    assert open_note(note, [signer.verifier()]).text == TEXT
    payload = base64.b64decode(note.splitlines()[-1].rsplit(" ", 1)[1])
    assert payload[:4] == sha256(w.name.encode() + b"\n\x04" + w.verifier().public_key).digest()[:4]
    assert payload[4:12] == (1_700_000_000).to_bytes(8, "big")
    message = cosigned_message(TEXT, 1_700_000_000)
    assert message == f"cosignature/v1\ntime 1700000000\n{TEXT}".encode()
    w.private_key.public_key().verify(payload[12:], message)


def test_a_cosignature_with_a_changed_time_or_by_another_witness_fails() -> None:
    w = witness()
    note = cosign(sign_note(TEXT, [log_signer()]), w, 1_700_000_000)
    _, [_, (name, key_id, signature)] = split_note(note)
    shifted = (1_700_000_001).to_bytes(8, "big") + signature[8:]
    line = f"\u2014 {name} {base64.b64encode(key_id + shifted).decode()}\n"
    with pytest.raises(UntrustedNote):
        verify_cosignature(note.rsplit("\u2014", 1)[0] + line, w.verifier())
    with pytest.raises(UntrustedNote):
        verify_cosignature(note, witness().verifier())
    with pytest.raises(MalformedNote):
        verify_cosignature(note, log_signer().verifier())


def test_a_cosigner_key_cannot_stand_in_for_a_log_key() -> None:
    w = witness("gateway.test/credit-audit")
    note = cosign(sign_note(TEXT, [log_signer()]), w, 5)
    as_log_key = NoteVerifier(w.name, KeyType.ED25519, w.verifier().public_key)
    with pytest.raises(UntrustedNote):
        open_note(note, [as_log_key])


@pytest.mark.parametrize(
    "note",
    [
        "",
        TEXT,
        TEXT + "\n",
        TEXT + "\n\u2014 name AAAAAAA=",
        TEXT + "\n- name AAAAAAA=\n",
        TEXT + "\n\u2014 name\n",
        TEXT + "\n\u2014 na me AAAAAAA=\n",
        TEXT + "\n\u2014 na+me AAAAAAA=\n",
        TEXT + "\n\u2014 name AAAA\n",
        TEXT + "\n\u2014 name AAAAAA==\n",
        TEXT + "\n\u2014 name AAAAAAB=\n",
        TEXT + "\n\u2014 name AAAAAA A=\n",
        TEXT.replace("13", "1\r3") + "\n\u2014 name AAAAAAA=\n",
        TEXT + "\n" + "\u2014 name AAAAAAA=\n" * 101,
    ],
)
def test_malformed_notes_are_rejected(note: str) -> None:
    with pytest.raises(MalformedNote):
        open_note(note, [log_signer().verifier()])


@pytest.mark.parametrize(
    "vkey",
    [
        "name+00000000+AQ==",
        "name+0000000+AAAA",
        "na+me+00000000+AAAA",
        "+00000000+AAAA",
        "name+00000000+" + base64.b64encode(b"\x02" + bytes(32)).decode(),
        "name+00000000+" + base64.b64encode(b"\x01" + bytes(32)).decode(),
    ],
)
def test_malformed_verifier_keys_are_rejected(vkey: str) -> None:
    with pytest.raises(MalformedNote):
        parse_verifier_key(vkey)


def test_signing_refuses_bad_text_names_and_no_signer() -> None:
    signer = log_signer()
    for text in ("", "no newline", "bell\x07\n"):
        with pytest.raises(MalformedNote):
            sign_note(text, [signer])
    with pytest.raises(MalformedNote):
        sign_note(TEXT, [])
    with pytest.raises(MalformedNote):
        NoteSigner("two words", signer.private_key)
    with pytest.raises(MalformedNote):
        witness().signature_line(TEXT, 1 << 63)


# Published test vectors of Go's golang.org/x/mod/sumdb/note (note_test.go: TestSign, TestOpen),
# the reference implementation of signed notes.
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfq"
    "dngotpRZb6KE6RyyBwJnAM=\n"
)
GO_ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTG"
    "wnWLox33WWd1RvMc+QQ=\n"
)


def test_go_sumdb_note_vectors_sign_and_verify_identically() -> None:
    seed = base64.b64decode(GO_PETER_SKEY.split("+", 4)[4])[1:]
    signer = NoteSigner("PeterNeumann", Ed25519PrivateKey.from_private_bytes(seed))
    assert signer.verifier().vkey == GO_PETER_VKEY
    assert sign_note(GO_TEXT, [signer]) == GO_TEXT + "\n" + GO_PETER_SIG

    note = GO_TEXT + "\n" + GO_PETER_SIG + GO_ENOCH_SIG
    peter, enoch = parse_verifier_key(GO_PETER_VKEY), parse_verifier_key(GO_ENOCH_VKEY)
    opened = open_note(note, [peter])
    assert opened.text == GO_TEXT
    assert [s.key_id.hex() for s in opened.signatures] == ["c74f20a3"]
    both = open_note(note, [peter, enoch])
    assert [s.name for s in both.signatures] == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(UntrustedNote):
        open_note(GO_TEXT.replace("cryptography", "Cryptography") + "\n" + GO_PETER_SIG, [peter])
