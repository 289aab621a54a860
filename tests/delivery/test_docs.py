"""The documentation is tested like code.

- Every ```python block of README.md and docs/*.md (but the generated API reference,
  whose blocks are signatures) runs and synthesizes without error.
  A block runs alone, as pasted into a file of its own: a script
  (``__name__ == "__main__"``) in a fresh interpreter and a temporary working folder,
  with no name defined beforehand (issue 17: snippets that used an undefined ``chart``
  failed when pasted). After it ran, the ``cdk8s.App`` it made (``app``), if any, is
  synthesized, which runs every construct validation. A fragment not meant to run
  (notebook code that needs live services) is preceded by ``<!-- not-executed: reason -->``.
- Every ``make`` command in the README's code blocks is a target of the Makefile, and
  the README gives the two set-up commands ``make synth`` and ``make test``.
- ``docs/api-reference.md`` is what ``scripts/api_reference.py`` (griffe) generates now,
  and griffe finds no docstring that disagrees with its signature.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
API_REFERENCE = ROOT / "docs" / "api-reference.md"
DOC_FILES = [README, *sorted((ROOT / "docs").glob("*.md"))]
NOT_EXECUTED = re.compile(r"^<!--\s*not-executed:\s*\S.*-->$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    skipped: bool

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def code_blocks(path: Path) -> list[Block]:
    """Fenced code blocks of a Markdown file (indented fences in lists included)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        start, indent, lang = i, match["indent"], match["lang"]
        previous = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        blocks.append(
            Block(
                path=path,
                line=start + 1,
                lang=lang,
                code=textwrap.dedent("\n".join(body)) + "\n",
                skipped=bool(NOT_EXECUTED.match(previous)),
            )
        )
        i += 1
    return blocks


ALL_BLOCKS = [b for path in DOC_FILES if path.exists() for b in code_blocks(path)]
# The generated API reference shows signatures, not programs; test_api_reference_* cover it.
PYTHON_BLOCKS = [b for b in ALL_BLOCKS if b.lang == "python" and b.path != API_REFERENCE]


def test_the_docs_have_runnable_examples() -> None:
    """Guards the extraction itself: a parsing slip must not silently test nothing."""
    runnable = [b for b in PYTHON_BLOCKS if not b.skipped]
    readme = [b for b in runnable if b.path == README]
    assert len(readme) >= 2, "README.md needs a minimal and a full example"
    assert len(runnable) >= 6
    skipped = [b for b in PYTHON_BLOCKS if b.skipped]
    assert len(skipped) <= len(runnable), "not-executed blocks must stay the exception"


# Runs one snippet in a fresh interpreter. A subprocess, not exec() in the test process:
# the jsii runtime's Node.js process keeps the working folder it started in, so relative
# output folders ("dist") of an in-process snippet would land in this repository.
RUNNER = """
import sys
import cdk8s

path = sys.argv[1]
namespace = {"__name__": "__main__"}
code = compile(open(path, encoding="utf-8").read(), sys.argv[2], "exec")
try:
    exec(code, namespace)
except SystemExit as exit_:
    if exit_.code not in (0, None):
        raise
final = namespace.get("app")
if final is not None:
    if not isinstance(final, cdk8s.App):
        sys.exit(f"{sys.argv[2]}: 'app' is not a cdk8s.App")
    final.synth()
"""


@pytest.mark.parametrize(
    "block", [b for b in PYTHON_BLOCKS if not b.skipped], ids=lambda b: b.where
)
def test_python_snippet_synthesizes(block: Block, tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(block.code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CDK8S_OUTDIR"}
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(snippet), block.where],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"{block.where} failed:\n{proc.stderr[-3000:]}"


def _makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z0-9_.%/-]+)\s*:(?!=)", text, re.M))
    phony = set()
    for line in re.findall(r"^\.PHONY\s*:(.*)$", text, re.M):
        phony.update(line.split())
    return targets | phony


def _make_commands(blocks: list[Block]) -> list[tuple[str, str]]:
    commands = []
    for block in blocks:
        if block.lang not in ("", "sh", "bash", "shell", "console"):
            continue
        for raw in block.code.splitlines():
            line = raw.strip().removeprefix("$ ").split("#", 1)[0].strip()
            for part in re.split(r"&&|;|\|\|", line):
                words = shlex.split(part)
                if words[:1] == ["make"]:
                    names = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
                    commands += [(block.where, n) for n in names or ["<default>"]]
    return commands


def test_readme_gives_the_two_setup_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make synth" in text
    assert "make test" in text


def test_every_make_command_in_the_readme_is_a_target() -> None:
    targets = _makefile_targets()
    commands = _make_commands([b for b in ALL_BLOCKS if b.path == README])
    assert {"synth", "test"} <= {name for _, name in commands}
    missing = [(where, name) for where, name in commands if name not in targets]
    assert not missing, f"make targets named in README.md but not in the Makefile: {missing}"


def _load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "api_reference", ROOT / "scripts" / "api_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_reference_is_up_to_date() -> None:
    text, _ = _load_generator().render()
    committed = API_REFERENCE.read_text(encoding="utf-8")
    assert committed == text, "docs/api-reference.md does not match the docstrings: run make docs"


def test_docstrings_agree_with_their_signatures() -> None:
    """griffe reads every docstring of the public API; a parameter documented but not in
    the signature, or a section it cannot parse, is a warning, and here an error."""
    _, warnings = _load_generator().render()
    assert warnings == []


def test_api_reference_is_deterministic() -> None:
    generator = _load_generator()
    first, _ = generator.render()
    assert first == generator.render()[0]
    assert str(ROOT) not in first
    home = os.path.expanduser("~")
    if len(home) > 1:  # HOME=/ in some containers
        assert home not in first


# Written on other branches at the same time; links to them are checked once they exist.
EXPECTED_FROM_OTHER_BRANCHES = {"docs/security.md", "docs/platform-services.md"}
LINK = re.compile(r"\]\((?!https?://|mailto:)(?P<target>[^)#\s]*)(?:#(?P<anchor>[^)\s]+))?\)")


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to '-'."""
    anchors = set()
    for heading in re.findall(r"^#+\s+(.+)$", path.read_text(encoding="utf-8"), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


@pytest.mark.parametrize(
    "doc", [p for p in DOC_FILES if p.exists()], ids=lambda p: str(p.relative_to(ROOT))
)
def test_relative_links_resolve(doc: Path) -> None:
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for match in LINK.finditer(text):
        target = (doc.parent / match["target"]).resolve() if match["target"] else doc
        relative = target.relative_to(ROOT).as_posix() if target.is_relative_to(ROOT) else ""
        if not target.exists():
            if relative not in EXPECTED_FROM_OTHER_BRANCHES:
                broken.append(match.group(0))
            continue
        if match["anchor"] and target.suffix == ".md" and match["anchor"] not in _anchors(target):
            broken.append(match.group(0))
    assert not broken, f"{doc.relative_to(ROOT)}: broken links {broken}"
