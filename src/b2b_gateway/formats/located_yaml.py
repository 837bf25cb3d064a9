"""YAML that remembers where every value was written, for configuration errors that point at a line.

Partner profiles, mapping files and code tables are YAML written by people. A mistake in one must be
reported at its line and column, so this reader returns the data together with a :class:`Positions`
map from each value's key path (``("documents", 0, "format")``) to where it starts in the file.

The YAML dialect is YAML 1.2's core schema as far as it matters here: only ``true``/``false`` are
booleans. YAML 1.1's ``yes``/``no``/``on``/``off`` stay strings, because EDIFACT qualifiers (``ON``,
``NO`` for Norway …) must never turn into booleans.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from b2b_gateway.errors import ConfigurationError, Location

__all__ = ["KeyPath", "LocatedYaml", "Positions", "load_located_yaml"]

KeyPath = tuple[int | str, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (``true``/``false`` only)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True, slots=True)
class Positions:
    """Where each value (and each mapping key) of a YAML document starts: 1-based line and column."""

    file: str | None
    values: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def at(self, path: Iterable[int | str], *, key: bool = False) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one."""
        parts = tuple(path)
        table = self.keys if key else self.values
        while parts:
            if parts in table:
                line, column = table[parts]
                return Location(file=self.file, line=line, column=column)
            if parts in self.values:
                line, column = self.values[parts]
                return Location(file=self.file, line=line, column=column)
            parts = parts[:-1]
        line, column = self.values.get((), (1, 1))
        return Location(file=self.file, line=line, column=column)

    def rule(self, path: Iterable[int | str]) -> str:
        """``file:line:column`` of ``path`` (of its key, where it has one), as :attr:`Location.mapping` wants it."""
        loc = self.at(path, key=True)
        return f"{self.file or '<mapping>'}:{loc.line}:{loc.column}"

    def shifted(self, prefix: KeyPath) -> Positions:
        """The positions below ``prefix``, re-rooted there (for a sub-document)."""
        n = len(prefix)
        return Positions(
            self.file,
            {k[n:]: v for k, v in self.values.items() if k[:n] == prefix},
            {k[n:]: v for k, v in self.keys.items() if k[:n] == prefix},
        )


@dataclass(frozen=True, slots=True)
class LocatedYaml:
    """A parsed YAML document and where each of its values is."""

    data: Any
    positions: Positions


def _build(node: Node, path: KeyPath, loader: _Loader, pos: Positions) -> Any:
    pos.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, MappingNode):
        own = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        mine: set[Any] = set()
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                key = str(key)
            if id(key_node) in own:
                if key in mine:
                    raise ConfigurationError(
                        f"key {key!r} appears twice",
                        location=Location(
                            file=pos.file, line=key_node.start_mark.line + 1, column=key_node.start_mark.column + 1
                        ),
                    )
                mine.add(key)
            pos.keys[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _build(value_node, (*path, key), loader, pos)
        return out
    if isinstance(node, SequenceNode):
        return [_build(item, (*path, i), loader, pos) for i, item in enumerate(node.value)]
    assert isinstance(node, ScalarNode)
    return loader.construct_object(node, deep=True)


def load_located_yaml(text: str, *, file: str | None = None) -> LocatedYaml:
    """Parse one YAML document, keeping the position of every value and key.

    Raises:
        ConfigurationError: the text is not YAML, or a key repeats in one mapping; with line and column.
    """
    loader = _Loader(text)
    positions = Positions(file)
    try:
        node = loader.get_single_node()
        data = None if node is None else _build(node, (), loader, positions)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigurationError(
            f"invalid YAML: {exc.problem or exc.context}",
            location=Location(
                file=file,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            ),
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"invalid YAML: {exc}", location=Location(file=file)) from None
    finally:
        loader.dispose()
    return LocatedYaml(data, positions)
