"""The CHANGELOG is the version history users pin against (issue 17).

Its entries are semantic versions, newest first; the newest is the version
``pyproject.toml`` builds; each says what an upgrade needs; and the install lines of
"Use it from your own repo" pin that same version.
"""

from __future__ import annotations

import re
import tomllib

from tests.helpers import ROOT

CHANGELOG = ROOT / "CHANGELOG.md"
OWN_REPO = ROOT / "docs" / "own-repo.md"
# https://semver.org/#is-there-a-suggested-regular-expression-regex-to-check-a-semver-string
SEMVER = r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?"
ENTRY = re.compile(
    rf"^## \[(?P<version>{SEMVER})\] - (?P<date>\d{{4}}-\d{{2}}-\d{{2}}|unreleased)$"
)


def _version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def _entries() -> list[tuple[str, str]]:
    """``(version, body)`` of every ``## [...]`` entry, in file order."""
    text = CHANGELOG.read_text(encoding="utf-8")
    parts = re.split(r"^(## \[.*)$", text, flags=re.M)
    entries = []
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        match = ENTRY.match(heading)
        assert match, f"CHANGELOG.md: {heading!r} is not '## [X.Y.Z] - YYYY-MM-DD|unreleased'"
        entries.append((match["version"], body))
    return entries


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("-")[0].split("."))


def test_the_newest_entry_is_the_version_pyproject_builds() -> None:
    entries = _entries()
    assert entries, "CHANGELOG.md has no version entry"
    assert entries[0][0] == _version()


def test_versions_are_newest_first_and_each_says_what_an_upgrade_needs() -> None:
    entries = _entries()
    keys = [_key(version) for version, _ in entries]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    for version, body in entries:
        assert "### Upgrade notes" in body, f"CHANGELOG.md [{version}]: no Upgrade notes"


def test_the_install_lines_pin_this_version() -> None:
    text = OWN_REPO.read_text(encoding="utf-8")
    patterns = (
        rf"@v({SEMVER})\b",
        rf"--branch v({SEMVER})\b",
        rf"jupyter_constructs-({SEMVER})-py3",
    )
    pins = {m.group(1) for pattern in patterns for m in re.finditer(pattern, text)}
    assert pins == {_version()}, f"docs/own-repo.md pins {sorted(pins)}, pyproject {_version()}"
