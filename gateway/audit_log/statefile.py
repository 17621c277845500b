"""Small JSON state files of the verifier and the witness, written atomically (mode 0600).

What they hold is evidence (signed checkpoints), not secrets; 0600 keeps another local user
from rewriting a regulator's memory of what the log signed (Art. 61(3)).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from gateway.audit_log.errors import MalformedState


def read_state(path: Path) -> dict[str, object]:
    """The state document, or an empty one when the file does not exist yet."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise MalformedState(f"the state file {path.name} is unreadable") from exc
    if not isinstance(document, dict):
        raise MalformedState(f"the state file {path.name} is not a JSON object")
    return document


def write_state(path: Path, document: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    tmp.replace(path)


def strings(document: dict[str, object], key: str) -> list[str]:
    values = document.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise MalformedState(f"the state file's {key} is not a list of strings")
    return list(values)


def optional_string(document: dict[str, object], key: str) -> str | None:
    value = document.get(key)
    if value is not None and not isinstance(value, str):
        raise MalformedState(f"the state file's {key} is not a string")
    return value
