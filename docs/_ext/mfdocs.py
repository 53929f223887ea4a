"""Sphinx extension of the mfzoo site: environment pages read from the code, and Markdown tables in docstrings.

- ``envdoc`` directive (in a MyST page: a ``{envdoc} battle`` fence with ``:part: overview``, ``arguments``
  or ``history``): the environment's module docstring (``mfenvs/NAME/env.py``, the doc page PettingZoo-style
  modules carry) rendered as Markdown. ``overview`` is its text up to the creation example; ``arguments`` is
  a table of every argument of ``NAME_vN.parallel_env`` with its default read from the signature and its
  meaning from the docstring's ``Arguments:`` section (an argument the docstring does not describe, or a
  description of an argument that does not exist, fails the build); ``history`` is the ``Version history:``
  section as a list.
- ``autodoc-process-docstring``: the module docstrings of the environments use Markdown pipe tables (they
  are read with ``help()`` and on the site), which reST does not parse; autodoc gets them as list-tables.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

SECTION = re.compile(r"^([A-Z][\w ]*):$")
"""A Google-style section title on a line of its own (``Arguments:``, ``Version history:``)."""


def env_docstring(name: str) -> tuple[Any, str]:
    """The registered environment ``name`` (``mfenvs.registration`` entry) and its env module's docstring."""
    from mfenvs.registration import find

    entry = find(name)
    module = importlib.import_module(f"mfenvs.{entry.short_name}.env")
    return entry, inspect.cleandoc(module.__doc__ or "")


def split_docstring(doc: str) -> tuple[list[str], dict[str, list[str]]]:
    """The free text (``Creation...::`` examples removed) and the Google-style sections, each dedented."""
    lines = doc.splitlines()
    text: list[str] = []
    sections: dict[str, list[str]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        title = SECTION.match(line)
        if line.endswith("::") and line.startswith("Creation"):  # the hand-written example: the table replaces it
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                i += 1
            continue
        if title:
            body = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                body.append(lines[i])
                i += 1
            sections[title.group(1)] = textwrap.dedent("\n".join(body)).strip().splitlines()
            continue
        text.append(line)
        i += 1
    return text, sections


def section_items(body: list[str]) -> list[tuple[str, str]]:
    """``name: text`` items of a section, continuation lines joined."""
    items: list[tuple[str, str]] = []
    for line in body:
        if line.startswith(" ") and items and items[-1][0].endswith(","):  # names that run on: ``a, b,\n    c: text``
            key, _, value = line.partition(":")
            items[-1] = (f"{items[-1][0]} {key.strip()}", value.strip())
        elif line.startswith(" ") and items:
            items[-1] = (items[-1][0], (items[-1][1] + " " + line.strip()).strip())
        elif line.strip():
            key, _, value = line.partition(":")
            items.append((key.strip(), value.strip()))
    return items


def argument_rows(name: str) -> list[tuple[str, str, str]]:
    """``(argument, default, meaning)`` for every argument of ``parallel_env``, in signature order.

    Raises:
        ValueError: an argument without a description in the docstring, or a description of none.
    """
    entry, doc = env_docstring(name)
    module = importlib.import_module(entry.module)
    signature = inspect.signature(module.parallel_env)
    described: dict[str, str] = {}
    for keys, text in section_items(split_docstring(doc)[1].get("Arguments", [])):
        for key in keys.split(","):
            if key.strip():
                described[key.strip()] = text
    parameters = list(signature.parameters.values())
    missing = [p.name for p in parameters if p.name not in described]
    unknown = sorted(set(described) - {p.name for p in parameters})
    if missing or unknown:
        raise ValueError(f"{entry.env_id}: arguments not described in the docstring {missing}, described but not taken {unknown}")
    return [(p.name, repr(p.default), described[p.name]) for p in parameters]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


class EnvDoc(SphinxDirective):
    """``{envdoc} NAME`` with ``:part: overview | arguments | history`` (see the module docstring)."""

    required_arguments = 1
    option_spec = {"part": lambda value: directives.choice(value, ("overview", "arguments", "history"))}

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        part = self.options.get("part", "overview")
        try:
            entry, doc = env_docstring(name)
            text, sections = split_docstring(doc)
            if part == "overview":
                lines = text
            elif part == "arguments":
                module = entry.module.split(".")[-1]
                lines = [
                    f"`{module}.parallel_env(...)`, `{module}.env(...)` and `{module}.raw_env(...)` take these "
                    "keyword arguments (defaults read from the signature, meanings from the docstring):",
                    "",
                    "| argument | default | meaning |",
                    "|---|---|---|",
                    *(f"| `{arg}` | `{_cell(default)}` | {_cell(meaning)} |" for arg, default, meaning in argument_rows(name)),
                ]
            else:
                items = section_items(sections.get("Version history", []))
                if not items:
                    raise ValueError(f"{entry.env_id}: the docstring has no 'Version history:' section")
                lines = [f"- **{version}**: {change}" for version, change in items]
        except (ValueError, ImportError) as error:
            raise self.error(f"envdoc {name}: {error}") from None
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=f"mfenvs/{name}/env.py"), self.content_offset, container)
        return container.children


# == Markdown pipe tables in docstrings, for autodoc ==================================================
def pipe_tables_to_list_tables(lines: list[str]) -> list[str]:
    """Replace each Markdown pipe table (a ``|...|`` row, then a ``|---|`` rule) by a reST list-table."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("|") and i + 1 < len(lines) and re.match(r"^\s*\|[-| :]+\|\s*$", lines[i + 1]):
            indent = line[: len(line) - len(line.lstrip())]
            rows = [line]
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(lines[i])
                i += 1
            cells = [[c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]] for row in rows]
            has_header = any(cells[0])
            out += [f"{indent}.. list-table::", f"{indent}   :header-rows: {1 if has_header else 0}", ""]
            for row in cells if has_header else cells[1:]:
                for j, cell in enumerate(row):
                    out.append(f"{indent}   {'* -' if j == 0 else '  -'} {cell or ' '}".rstrip() + ("" if cell else ""))
            out.append("")
        else:
            out.append(line)
            i += 1
    return out


def process_docstring(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    lines[:] = pipe_tables_to_list_tables(lines)


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("envdoc", EnvDoc)
    app.connect("autodoc-process-docstring", process_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
