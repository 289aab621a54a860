"""Generate ``docs/api-reference.md`` from the docstrings of ``jupyter_constructs``.

Covers every name in ``jupyter_constructs.__all__``: its signature and docstring, and
for classes their public methods, class methods and properties. The output depends only
on the source (no addresses, no dates, names sorted), so regenerating without a code
change gives the same bytes; ``tests/test_docs.py`` checks the committed file is current.

Usage: ``python scripts/gen_api_reference.py [--check]`` (``make docs``).
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import inspect
import os
import re
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "api-reference.md"

HEADER = """\
# API reference

Generated from the docstrings by `scripts/gen_api_reference.py` (`make docs`); do not
edit by hand. It lists every public name of `jupyter_constructs` (its `__all__`).
`tests/test_docs.py` fails when this file is out of date.

"""

# jsii/constructs plumbing every construct inherits; not part of our API.
_INHERITED_FROM = ("constructs", "cdk8s", "jsii", "abc", "builtins", "typing", "enum")


def _clean_annotation(text: str) -> str:
    # Signatures must not depend on where modules live on this machine or on ids.
    text = re.sub(r" at 0x[0-9a-f]+", "", text)
    text = text.replace("jupyter_constructs.", "").replace("constructs._jsii.", "")
    return text


def _annotation(value: Any) -> str:
    if value is inspect.Parameter.empty:
        return ""
    # With postponed evaluation (PEP 563) annotations are the source text already.
    return value if isinstance(value, str) else inspect.formatannotation(value)


def _signature(obj: Any, name: str) -> str:
    """``name(a: int, *, b: str = 'x') -> T`` with annotations as written in the source."""
    target = obj
    if inspect.isclass(obj) and not dataclasses.is_dataclass(obj):
        # Constructs go through jsii's metaclass __call__: show our __init__ instead.
        init = next((k.__dict__["__init__"] for k in obj.__mro__ if "__init__" in k.__dict__), None)
        if init is None or not _is_ours(init):
            return f"{name}(...)"
        target = init
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return f"{name}(...)"
    parts: list[str] = []
    star_done = False
    params = [p for p in sig.parameters.values() if p.name not in ("self", "cls")]
    for param in params:
        if param.kind is param.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if param.kind is param.VAR_POSITIONAL:
            star_done = True
            text = f"*{param.name}"
        elif param.kind is param.VAR_KEYWORD:
            text = f"**{param.name}"
        else:
            text = param.name
        annotation = _annotation(param.annotation)
        if annotation:
            text += f": {annotation}"
        if param.default is not inspect.Parameter.empty:
            text += f" = {param.default!r}" if annotation else f"={param.default!r}"
        parts.append(text)
    returns = _annotation(sig.return_annotation)
    suffix = f" -> {returns}" if returns and not inspect.isclass(obj) else ""
    one_line = f"{name}({', '.join(parts)}){suffix}"
    if len(one_line) > 88:
        one_line = f"{name}(\n" + "".join(f"    {p},\n" for p in parts) + f"){suffix}"
    return _clean_annotation(one_line)


def _doc(obj: Any) -> str:
    doc = inspect.getdoc(obj)
    return doc.strip() if doc else "*(no docstring)*"


def _is_ours(owner: Any) -> bool:
    module = getattr(owner, "__module__", "") or ""
    return module.startswith("jupyter_constructs")


def _members(cls: type) -> list[tuple[str, str, Any]]:
    """Public members defined by our classes (not inherited from jsii/constructs)."""
    found: dict[str, tuple[str, Any]] = {}
    for klass in reversed(cls.__mro__):
        if not _is_ours(klass) or klass.__module__.split(".")[0] in _INHERITED_FROM:
            continue
        for attr, value in vars(klass).items():
            if attr.startswith("_"):
                continue
            if isinstance(value, property):
                found[attr] = ("property", value)
            elif isinstance(value, classmethod):
                found[attr] = ("classmethod", value.__func__)
            elif isinstance(value, staticmethod):
                found[attr] = ("staticmethod", value.__func__)
            elif inspect.isfunction(value):
                found[attr] = ("method", value)
    return [(attr, kind, value) for attr, (kind, value) in sorted(found.items())]


def _fields(cls: type) -> list[str]:
    if not dataclasses.is_dataclass(cls):
        return []
    lines = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f" = {f.default!r}"
        elif f.default_factory is not dataclasses.MISSING:
            default = f" = {f.default_factory()!r}"
        else:
            default = ""
        annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", f.type)
        lines.append(f"- `{f.name}: {_clean_annotation(str(annotation))}{default}`")
    return lines


def _class_section(name: str, cls: type) -> list[str]:
    kind = "enum" if issubclass(cls, enum.Enum) else "class"
    if dataclasses.is_dataclass(cls):
        kind = "frozen dataclass" if cls.__dataclass_params__.frozen else "dataclass"  # type: ignore[attr-defined]
    bases = [b.__name__ for b in cls.__bases__ if b is not object]
    out = [f"## `{name}`", "", f"*{kind}*" + (f", bases: {', '.join(bases)}" if bases else "")]
    out += ["", "```python", _signature(cls, name), "```", "", _doc(cls), ""]
    fields = _fields(cls)
    if fields:
        out += ["**Fields**", "", *fields, ""]
    if issubclass(cls, enum.Enum):
        out += ["**Members**", ""]
        out += [f"- `{m.name}` = `{m.value!r}`" for m in cls]
        out.append("")
    for attr, member_kind, value in _members(cls):
        out.append(
            f"### `{name}.{attr}`" + ("" if member_kind == "method" else f" ({member_kind})")
        )
        out.append("")
        if member_kind == "property":
            out += [_doc(value.fget) if value.fget else "*(no docstring)*", ""]
            continue
        out += ["```python", _signature(value, attr), "```", "", _doc(value), ""]
    return out


def _function_section(name: str, func: Any) -> list[str]:
    return [
        f"## `{name}`",
        "",
        "*function*",
        "",
        "```python",
        _signature(func, name),
        "```",
        "",
        _doc(func),
        "",
    ]


def render() -> str:
    """The whole reference as one string."""
    sys.path.insert(0, str(ROOT))
    import jupyter_constructs

    names = sorted(jupyter_constructs.__all__)
    out = [HEADER.rstrip("\n"), "", "## Contents", ""]
    out += [f"- [`{n}`](#{n.lower()})" for n in names]
    out.append("")
    for name in names:
        obj = getattr(jupyter_constructs, name)
        if inspect.isclass(obj):
            out += _class_section(name, obj)
        else:
            out += _function_section(name, obj)
    return "\n".join(out).rstrip("\n") + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run make docs", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
