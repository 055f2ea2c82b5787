"""The README stays true to the code: its configuration table lists every setting."""

import re
from pathlib import Path

from api.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_configuration_table() -> None:
    table = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert sorted(set(Settings.model_fields) - listed) == []


def test_the_image_holds_every_package_the_commands_import() -> None:
    """`marquee` in the image imports every package pyproject installs (a missing COPY made
    `marquee import tmdb` fail in the container only)."""
    root = README.parent
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (root / "Dockerfile").read_text(), re.M))
    packages = re.search(r"^include = \[(.*)\]$", (root / "pyproject.toml").read_text(), re.M)
    assert packages is not None
    wanted = {name.strip('" *') for name in packages.group(1).split(",")} - {"devstack"}
    assert sorted(wanted - copied) == []
