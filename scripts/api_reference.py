"""Write ``docs/api-reference.md`` from the docstrings, with griffe: ``make docs``.

griffe (the engine of mkdocstrings) reads the package statically, so nothing is
imported and no Node.js process starts, and parses the Google-style docstrings into
sections. This script only lays them out as Markdown: every name of
``jupyter_constructs.__all__``, its signature as written in the source, its docstring
with ``Args``/``Attributes``/``Returns``/``Raises`` as lists (a parameter's type comes
from the signature), and for classes their public methods and properties.

griffe's own warnings (a documented parameter the signature does not have, a section it
cannot parse) are errors: ``--check`` fails on them and when the committed file is not
what this script writes; ``tests/delivery/test_docs.py`` runs the same checks.

Usage: ``python scripts/api_reference.py [--check]``.
"""

from __future__ import annotations

import argparse
import ast
import logging
import sys
from pathlib import Path

import griffe

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "api-reference.md"
HEADER = """\
# API reference

Generated from the docstrings by griffe (`make docs`, `scripts/api_reference.py`); do not
edit by hand. It lists every public name of `jupyter_constructs` (its `__all__`); each
also says the module that defines it. `tests/delivery/test_docs.py` fails when this file is out of
date or when a docstring disagrees with its signature.

"""


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _exports() -> dict[str, str]:
    """Public name -> defining module, read from the facade's ``_EXPORTS`` (no import)."""
    tree = ast.parse((ROOT / "jupyter_constructs" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "_EXPORTS":
            assert node.value is not None
            value = ast.literal_eval(node.value)
            return dict(sorted(value.items()))
    raise SystemExit("api_reference: no _EXPORTS in jupyter_constructs/__init__.py")


def _signature(name: str, function: griffe.Function) -> str:
    parts: list[str] = []
    star = False
    for param in function.parameters:
        if param.name in ("self", "cls"):
            continue
        kind = param.kind
        if kind is griffe.ParameterKind.keyword_only and not star:
            parts.append("*")
            star = True
        prefix = {"var_positional": "*", "var_keyword": "**"}.get(kind.name, "")
        star = star or kind is griffe.ParameterKind.var_positional
        text = f"{prefix}{param.name}"
        if param.annotation is not None:
            text += f": {param.annotation}"
        if param.default is not None and not prefix:
            text += f" = {param.default}" if param.annotation is not None else f"={param.default}"
        parts.append(text)
    no_returns = function.name == "__init__" or function.returns is None
    returns = "" if no_returns else f" -> {function.returns}"
    line = f"{name}({', '.join(parts)}){returns}"
    if len(line) > 88:
        line = f"{name}(\n" + "".join(f"    {p},\n" for p in parts) + f"){returns}"
    return line


def _types(function: griffe.Function | None) -> dict[str, str]:
    if function is None:
        return {}
    return {p.name: str(p.annotation) for p in function.parameters if p.annotation is not None}


def _docstring(obj: griffe.Object, types: dict[str, str], level: int) -> list[str]:
    if obj.docstring is None:
        return ["*(no docstring)*", ""]
    out: list[str] = []
    for section in obj.docstring.parse("google"):
        kind = section.kind.value
        if kind == "text":
            out += [str(section.value).strip(), ""]
        elif kind in ("parameters", "attributes", "other parameters"):
            out += [f"**{section.title or kind.capitalize()}**", ""]
            for item in section.value:
                annotation = types.get(item.name) or str(item.annotation or "")
                typed = f" (`{annotation}`)" if annotation else ""
                out.append(f"- `{item.name}`{typed}: {_one_line(item.description)}")
            out.append("")
        elif kind in ("returns", "yields", "raises", "warns"):
            out += [f"**{kind.capitalize()}**", ""]
            for item in section.value:
                what = item.annotation if kind in ("raises", "warns") else ""
                lead = f"`{what}`: " if what else ""
                out.append(f"- {lead}{_one_line(item.description)}")
            out.append("")
        elif kind == "examples":
            out += ["**Examples**", ""]
            for _, text in section.value:
                out += [str(text).strip(), ""]
        else:
            out += [f"**{section.title or kind}**", "", str(section.value), ""]
    del level
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _members(cls: griffe.Class) -> list[tuple[str, griffe.Object]]:
    found = []
    for name, member in sorted(cls.members.items()):
        if name.startswith("_") or member.is_alias:
            continue
        if isinstance(member, griffe.Function) or (
            isinstance(member, griffe.Attribute) and "property" in member.labels
        ):
            found.append((name, member))
    return found


def _section(name: str, module: str, obj: griffe.Object) -> list[str]:
    kind = "function"
    if isinstance(obj, griffe.Class):
        kind = "class"
        if "dataclass" in obj.labels:
            kind = "dataclass"
        bases = ", ".join(str(b) for b in obj.bases)
        if bases:
            kind += f", bases: {bases}"
    out = [f"## `{name}`", "", f"*{kind}* in `jupyter_constructs.{module}`", ""]
    init: griffe.Function | None = None
    if isinstance(obj, griffe.Class):
        member = obj.members.get("__init__")
        init = member if isinstance(member, griffe.Function) else None
        if init is not None:
            out += ["```python", _signature(name, init), "```", ""]
    elif isinstance(obj, griffe.Function):
        init = obj
        out += ["```python", _signature(name, obj), "```", ""]
    out += _docstring(obj, _types(init), 2)
    if isinstance(obj, griffe.Class):
        for member_name, member in _members(obj):
            is_property = isinstance(member, griffe.Attribute)
            out += [f"### `{name}.{member_name}`" + (" (property)" if is_property else ""), ""]
            if isinstance(member, griffe.Function):
                if "property" in member.labels:
                    out[-2] = f"### `{name}.{member_name}` (property)"
                else:
                    out += ["```python", _signature(member_name, member), "```", ""]
            function = member if isinstance(member, griffe.Function) else None
            out += _docstring(member, _types(function), 3)
    return out


def render() -> tuple[str, list[str]]:
    """The reference text, and griffe's warnings while reading the docstrings."""
    collect = _Collect()
    logger = logging.getLogger("griffe")
    logger.addHandler(collect)
    try:
        package = griffe.load(
            "jupyter_constructs", search_paths=[str(ROOT)], docstring_parser="google"
        )
        lines = [HEADER.rstrip("\n"), ""]
        for name, module in _exports().items():
            obj = package[f"{module}.{name}"]
            lines += _section(name, module, obj)
    finally:
        logger.removeHandler(collect)
    text = "\n".join(lines).rstrip("\n") + "\n"
    warnings = [m for m in collect.messages if "docstring" in m.lower() or ":" in m]
    return text, warnings


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is not current")
    args = parser.parse_args()
    text, warnings = render()
    for warning in warnings:
        print(f"api_reference: {warning}", file=sys.stderr)
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") == text
        if not current:
            print("api_reference: docs/api-reference.md is out of date: make docs", file=sys.stderr)
        return 0 if current and not warnings else 1
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 1 if warnings else 0


if __name__ == "__main__":
    sys.exit(main())
