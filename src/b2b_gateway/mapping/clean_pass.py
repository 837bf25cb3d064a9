"""An EDIFACT inbound mapping written out as one Python function, for the documents that map cleanly.

The engine (:mod:`.engine`) reads a mapping node by node through functions made once, and records
where every value came from, so that any error can be located in the partner's document. Most
documents have no error, and for them that bookkeeping and the calls between the small functions are
most of the mapping's cost. So the mapping's structure is also written out, once per mapping, as
Python source and compiled (:func:`clean_reader`):

- an object is a function that fills a dict field after field;
- a loop (``each``) or a scope is a loop over the nodes its path selects;
- a plain value (one path, read as it is) is a small function of nested loops over the group
  indexes (:meth:`Group.named`), the filters' qualifiers compared in line, that returns the first
  non-empty value;
- every other node (conversions, conditions, constants of other types, several paths, a ``**`` or
  indexed step) and every missing value that has a default or is required is read by the engine's own
  function for that node, so it behaves the same by construction.

The function records no sources. :func:`~b2b_gateway.mapping.mapped.canonical_from_tree` uses it
first and keeps its result only when the run recorded no error and the canonical model validates
it; otherwise the engine maps the document again and locates every error. What the generated code
holds comes from a compiled mapping: tags and group names (``[A-Z]{3}``, ``SGn``) and element
positions are checked when the mapping is loaded, field names are written as ``repr`` literals, and
every other value (qualifier sets, constants, the engine's functions) is a name bound in the
function's own namespace, never source text.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable
from typing import Any

from b2b_gateway.formats.edifact.model import Group, Segment
from b2b_gateway.mapping.engine import EMPTY_VALUES, MappingRun, converted_in, node_reader, typed_in
from b2b_gateway.mapping.paths.edifact import EdifactPath, EdifactSyntax
from b2b_gateway.mapping.plan import CompiledMapping, PGroup, PList, PNode, PValue

__all__ = ["CleanReader", "clean_reader"]

CleanReader = Callable[[MappingRun, Any], "dict[str, Any] | None"]
"""(run, message tree) -> the canonical data; errors, if any, are in ``run.errors``."""

_KEY = "inbound-clean"


def clean_reader(mapping: CompiledMapping) -> CleanReader | None:
    """The mapping's clean pass, made on first use (``None`` for a mapping that is not EDIFACT)."""
    found = mapping.readers.get(_KEY, False)
    if found is False:
        syntax = mapping.syntax
        found = _Writer(syntax).function(mapping) if isinstance(syntax, EdifactSyntax) else None
        mapping.readers[_KEY] = found
    return found  # type: ignore[no-any-return]


class _Writer:
    """Writes the source of one mapping's clean pass and compiles it."""

    def __init__(self, syntax: EdifactSyntax) -> None:
        self.syntax = syntax
        self.names: dict[str, Any] = {"Group": Group, "Segment": Segment, "_EMPTY": EMPTY_VALUES}
        self.blocks: list[list[str]] = []

    def function(self, mapping: CompiledMapping) -> CleanReader:
        root = self.object_function(mapping.root)
        source = "\n\n".join("\n".join(block) for block in self.blocks) + "\n"
        filename = f"<clean pass of {mapping.file}>"
        exec(compile(source, filename, "exec"), self.names)  # see the module on what the source holds
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # for tracebacks
        made: CleanReader = self.names[root]
        return made

    def bind(self, prefix: str, value: Any) -> str:
        name = f"_{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    # -- objects and values ----------------------------------------------------------------------

    def object_function(self, group: PGroup) -> str:
        name = self.bind("o", None)
        lines = [f"def {name}(run, n):", "    out = {}", "    found = False"]
        for key, child in group.fields:
            self.read(child, "n", "v", lines, 1)
            if key.startswith("_"):
                continue  # read (its errors count) but not kept
            lines.append("    " + ("if v not in _EMPTY:" if not _plain_string(child) else "if v is not None:"))
            lines.append(f"        out[{key!r}] = v")
            if not (isinstance(child, PValue) and child.const is not None):
                lines.append("        found = True")
        lines.append("    return out if found else None")
        self.blocks.append(lines)
        return name

    def read(self, node: PNode, context: str, var: str, lines: list[str], depth: int) -> None:
        """Lines that set ``var`` to what ``node`` reads in ``context`` (as the engine's function would)."""
        pad = "    " * depth
        engine = _Engine(self, node, context)
        if isinstance(node, PValue):
            self.value(node, context, var, lines, pad, engine)
        elif isinstance(node, PList):
            lines.append(f"{pad}{var} = []")
            inner = f"{var}i"
            for item in node.items:
                self.read(item, context, inner, lines, depth)
                if isinstance(item, PGroup) and item.each is not None:
                    lines.append(f"{pad}if isinstance({inner}, list): {var}.extend({inner})")
                    lines.append(f"{pad}elif {inner} not in _EMPTY: {var}.append({inner})")
                else:
                    lines.append(f"{pad}if {inner} not in _EMPTY: {var}.append({inner})")
        elif node.direction == "outbound":
            lines.append(f"{pad}{var} = None")
        elif node.when is not None or node.value is not None:
            lines.append(f"{pad}{var} = {engine}")
        elif node.each is not None:
            each = self.object_function(node)
            nodes = self.bind("s", node.each.select)
            lines.append(f"{pad}{var} = []")
            lines.append(f"{pad}for {var}n in {nodes}({context}):")
            lines.append(f"{pad}    {var}i = {each}(run, {var}n)")
            lines.append(f"{pad}    if {var}i not in _EMPTY: {var}.append({var}i)")
            if node.required:
                lines.append(f"{pad}if not {var}: {var} = {engine}")
        elif node.scope is not None:
            scoped = self.object_function(node)
            nodes = self.bind("s", node.scope.select)
            lines.append(f"{pad}{var}n = {nodes}({context})")
            lines.append(f"{pad}if {var}n: {var} = {scoped}(run, {var}n[0])")
            lines.append(f"{pad}else: {var} = {engine if node.required else 'None'}")
        else:
            lines.append(f"{pad}{var} = {self.object_function(node)}(run, {context})")

    def value(self, rule: PValue, context: str, var: str, lines: list[str], pad: str, engine: _Engine) -> None:
        if rule.direction == "outbound":
            lines.append(f"{pad}{var} = None")
            return
        if rule.const is not None and _constant(rule):
            lines.append(f"{pad}{var} = {self.bind('k', rule.const)}")
            return
        if not _readable(rule):
            lines.append(f"{pad}{var} = {engine}")
            return
        paths: list[EdifactPath] = list(rule.paths)
        holder = rule.date is not None and rule.format_at is not None  # the date's format beside it
        if len(paths) == 1 and not rule.all:
            lines.append(f"{pad}{var} = {self.path_function(paths[0], holder=holder)}({context})")
        else:
            lines.append(f"{pad}{var}l = []")
            for path in paths:
                if rule.all:
                    lines.append(f"{pad}{self.path_function(path, every=True)}({context}, {var}l)")
                else:
                    lines.append(f"{pad}{var}x = {self.path_function(path)}({context})")
                    lines.append(f"{pad}if {var}x is not None: {var}l.append({var}x)")
            sep = rule.text.separator if rule.text else " "
            lines.append(f"{pad}{var} = {sep!r}.join({var}l) if len({var}l) > 1 else ({var}l[0] if {var}l else None)")
        if rule.plain:
            if rule.default is not None or rule.required:
                lines.append(f"{pad}if {var} is None: {var} = {engine}")
            return
        convert = self.bind("f", _converter(rule, self.syntax))
        lines.append(f"{pad}if {var} is None: {var} = {engine}")
        lines.append(f"{pad}else:")
        lines.append(f"{pad}    try: {var} = {convert}({var})")
        lines.append(f"{pad}    except Exception: {var} = {engine}  # the engine records what failed")

    # -- paths -----------------------------------------------------------------------------------

    def path_function(self, path: EdifactPath, *, holder: bool = False, every: bool = False) -> str:
        """A function of the context node: the first non-empty value ``path`` designates, or ``None``.

        With ``holder``, that value and the segment it is in; with ``every``, a function of the context
        and a list that appends every non-empty value to the list.
        """
        assert path.element is not None
        element, component = path.element
        name = self.bind("p", None)
        found = "return (x, {node})" if holder else "return x"
        lines = [f"def {name}(n0, out=None):"]
        if not path.steps:
            lines += ["    if isinstance(n0, Segment):", f"        x = n0.value({element}, {component})"]
            if every:
                lines += ["        if x != '': out.append(x)", "    return None"]
            else:
                lines += [f"        if x != '': {found.format(node='n0')}", "    return None"]
            self.blocks.append(lines)
            return name
        lines.append("    if not isinstance(n0, Group): return None")
        for depth, step in enumerate(path.steps, start=1):
            pad = "    " * depth
            key = "/" + step.name if step.is_group else step.name
            lines.append(f"{pad}for n{depth} in n{depth - 1}.named({key!r}):")
            tests = [self.test(f, step.is_group, f"n{depth}") for f in step.filters]
            if tests:
                lines.append(f"{pad}    if not ({' and '.join(tests)}): continue")
        last = len(path.steps)
        pad = "    " * (last + 1)
        lines.append(f"{pad}x = n{last}.value({element}, {component})")
        keep = "out.append(x)" if every else found.format(node=f"n{last}")
        lines.append(f"{pad}if x != '': {keep}")
        lines.append("    return None")
        self.blocks.append(lines)
        return name

    def test(self, flt: Any, on_group: bool, node: str) -> str:
        """The filter as an expression of ``node``: a qualifier of the segment itself in line, else its function."""
        path: EdifactPath = flt.path
        if not on_group and not path.steps and path.element is not None and flt.values:
            element, component = path.element
            codes = self.bind("c", frozenset(v for v in flt.values if v != ""))
            return f"({node}.value({element}, {component}) {'not in' if flt.negate else 'in'} {codes})"
        return f"{self.bind('t', flt.test)}({node})"


class _Engine:
    """The engine's own function for a node, called in ``context`` (bound only when the source uses it)."""

    def __init__(self, writer: _Writer, node: PNode, context: str) -> None:
        self.writer, self.node, self.context = writer, node, context
        self.name: str | None = None

    def __format__(self, spec: str) -> str:
        if self.name is None:
            self.name = self.writer.bind("r", node_reader(self.node, self.writer.syntax))
        return f"{self.name}(run, {self.context}, '')"


def _readable(rule: PValue) -> bool:
    """Whether the rule's reading is written out: paths written out, no condition or function, a date's
    format read beside it only from a single path."""
    if rule.when is not None or rule.fn_in is not None or not rule.paths:
        return False
    if not all(isinstance(p, EdifactPath) and _inline(p) for p in rule.paths):
        return False
    return rule.format_at is None or rule.date is None or (len(rule.paths) == 1 and not rule.all)


def _converter(rule: PValue, syntax: EdifactSyntax) -> Callable[..., Any]:
    """The rule's conversions of a value read (as ``engine._value_in`` does them); raises what they raise."""
    fmt = rule.date.format if rule.date is not None else ""
    if rule.date is not None and rule.format_at is not None:
        at = rule.format_at

        def convert_beside(found: tuple[str, Segment]) -> Any:
            value, segment = found
            converted = converted_in(rule, value, syntax.read(segment, at) or fmt)
            return typed_in(rule, converted) if converted is not None else None

        return convert_beside

    def convert(value: str) -> Any:
        converted = converted_in(rule, value, fmt)
        return typed_in(rule, converted) if converted is not None else None

    return convert


def _inline(path: EdifactPath) -> bool:
    """Whether the path is written out: it ends at an element, with no ``**`` or indexed step."""
    return path.element is not None and all(not s.deep and s.index is None for s in path.steps)


def _plain_string(node: PNode) -> bool:
    """A plain value read from one path (never an empty string when found): kept unless ``None``."""
    return (
        isinstance(node, PValue)
        and node.plain
        and not node.all
        and node.default is None
        and node.direction != "outbound"
        and len(node.paths) == 1
        and isinstance(node.paths[0], EdifactPath)
        and _inline(node.paths[0])
    )


def _constant(rule: PValue) -> bool:
    """A string constant with nothing to convert: the engine returns it as it is."""
    converts = (rule.date, rule.decimal, rule.table, rule.factor, rule.fn_in, rule.when)
    return rule.type == "string" and all(c is None for c in converts)
