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
    group = get_command(app)
    declared = set()
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        declared |= {f"{name} {sub}" for sub in subcommands} if subcommands else {name}
    assert documented == declared
