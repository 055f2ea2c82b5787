"""The README stays true to the code: its configuration table lists every setting."""

import re
from pathlib import Path

from api.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_configuration_table() -> None:
    table = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert sorted(set(Settings.model_fields) - listed) == []
