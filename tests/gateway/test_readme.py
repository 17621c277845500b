"""The README documents exactly the settings and commands the code has."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from gateway.cli import app
from gateway.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_configuration_table_lists_every_setting() -> None:
    documented = set(re.findall(r"^\| `(GATEWAY_[A-Z_]+)` \|", README, flags=re.MULTILINE))
    declared = {f"GATEWAY_{name.upper()}" for name in Settings.model_fields}
    assert documented == declared


def test_command_table_lists_every_command() -> None:
    documented = set(
        re.findall(r"^\| `gateway ([a-z -]+?)(?: [A-Z]+)?` \|", README, flags=re.MULTILINE)
    )
    assert documented == set(_leaf_commands(get_command(app), ""))


def _leaf_commands(command: object, name: str) -> list[str]:
    """The full names of the commands that run something, groups walked to any depth."""
    subcommands: dict[str, object] | None = getattr(command, "commands", None)
    if not subcommands:
        return [name]
    prefix = f"{name} " if name else ""
    return [
        leaf for sub, child in subcommands.items() for leaf in _leaf_commands(child, prefix + sub)
    ]
