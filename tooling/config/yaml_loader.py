"""Safe YAML loading for serverless.yml: CloudFormation short tags, positions, strict keys.

Serverless parses its YAML with a CloudFormation schema, so `!GetAtt hello.Arn` and friends are
legal there; here they load as their long JSON forms. Every value's 1-based line/column is kept
by JSON pointer in a `SourceMap`, like `tooling.sourcemap.load_json` does for JSON.

Untrusted input stays bounded: aliases may add at most `MAX_ALIAS_NODES` nodes to a document
(each alias counts the nodes of what it repeats, nested aliases included), nesting stops at
`MAX_DEPTH` levels, and an alias inside the node it names (a recursive structure) is refused.
Each check runs while the document is composed, before anything walks the expanded tree, so a
"billion laughs" document is refused after reading a few hundred bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import yaml
from yaml.error import Mark
from yaml.events import AliasEvent
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode, SequenceNode

from tooling.errors import BadInput, ConfigError
from tooling.sourcemap import Position, SourceMap, pointer_join

# Short tag -> long form key. `!GetAtt` and `!Condition` need special shapes (see below).
_FN_TAGS = {
    "Ref": "Ref",
    "Sub": "Fn::Sub",
    "Join": "Fn::Join",
    "ImportValue": "Fn::ImportValue",
    "If": "Fn::If",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "GetAZs": "Fn::GetAZs",
    "Base64": "Fn::Base64",
    "Equals": "Fn::Equals",
    "Not": "Fn::Not",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "FindInMap": "Fn::FindInMap",
    "Cidr": "Fn::Cidr",
    "Length": "Fn::Length",
    "ToJsonString": "Fn::ToJsonString",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
}

_BOOL_TAG = "tag:yaml.org,2002:bool"
_MERGE_TAG = "tag:yaml.org,2002:merge"

# Nodes that aliases may add to one document, counted as if every alias were written out. A
# serverless.yml sharing a settings block between functions adds a few hundred; nine levels of
# nine-fold aliases ("billion laughs") would add 435 million.
MAX_ALIAS_NODES = 100_000
# Nesting levels of collections (a deep ASL definition written in YAML uses a few dozen).
MAX_DEPTH = 200


class CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation short tags, duplicate-key errors, YAML 1.2 booleans and
    bounds on aliases and nesting."""

    file_label = "<yaml>"
    error_type: type[BadInput] = ConfigError

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._alias_nodes = 0  # nodes added by the aliases composed so far
        self._expanded: dict[int, tuple[int, int]] = {}  # id(node) -> nodes, depth
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        mark = self.peek_event().start_mark
        if self.check_event(AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:  # an unknown alias: PyYAML reports it below
                self._count_alias(event.anchor, node, mark)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            self._check_depth(self._depth, mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _where(self, mark: Mark) -> dict[str, Any]:
        return {"file": self.file_label, "line": mark.line + 1, "column": mark.column + 1}

    def _check_depth(self, depth: int, mark: Mark) -> None:
        if depth > MAX_DEPTH:
            raise self.error_type(
                f"the YAML nests deeper than {MAX_DEPTH} levels (aliases written out)",
                **self._where(mark),
                hint="flatten the document",
            )

    def _count_alias(self, anchor: str, node: Node, mark: Mark) -> None:
        if isinstance(node, CollectionNode) and node.end_mark is None:
            raise self.error_type(
                f"alias *{anchor} is inside the node &{anchor} it repeats (a recursive structure)",
                **self._where(mark),
                hint="an alias must not refer to a node that encloses it",
            )
        size, depth = self._expanded_shape(node)
        self._check_depth(self._depth + depth, mark)
        self._alias_nodes += size
        if self._alias_nodes > MAX_ALIAS_NODES:
            raise self.error_type(
                f"aliases expand this document past {MAX_ALIAS_NODES:,} nodes (at alias "
                f"*{anchor}); refused as a possible alias bomb",
                **self._where(mark),
                hint="write the repeated parts out, or repeat less",
            )

    def _expanded_shape(self, node: Node) -> tuple[int, int]:
        """(nodes, depth) of `node` with every alias written out, each node computed once."""
        known = self._expanded.get(id(node))
        if known is not None:
            return known
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        shapes = [self._expanded_shape(child) for child in children]
        shape = (1 + sum(s for s, _ in shapes), 1 + max((d for _, d in shapes), default=0))
        self._expanded[id(node)] = shape
        return shape

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # unhashable key: SafeConstructor reports it below
                continue
            if duplicate:
                mark = key_node.start_mark
                first = seen[key].start_mark
                raise ConfigError(
                    f"duplicate key {key!r} (first defined on line {first.line + 1})",
                    file=self.file_label,
                    line=mark.line + 1,
                    column=mark.column + 1,
                    hint="remove or rename one of them",
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 reads yes/no/on/off as booleans; Serverless (js-yaml, YAML 1.2 core) does not.
CloudFormationLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CloudFormationLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_plain(loader: CloudFormationLoader, node: Node) -> Any:
    if isinstance(node, ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(cast(MappingNode, node), deep=True)  # the third kind


def _make_constructor(long_name: str) -> Callable[[CloudFormationLoader, Node], dict[str, Any]]:
    def construct(loader: CloudFormationLoader, node: Node) -> dict[str, Any]:
        value = _construct_plain(loader, node)
        if long_name == "Fn::GetAtt" and isinstance(value, str):
            resource, dot, attribute = value.partition(".")
            value = [resource, attribute] if dot else [value]
        return {long_name: value}

    return construct


for _short, _long in _FN_TAGS.items():
    CloudFormationLoader.add_constructor(f"!{_short}", _make_constructor(_long))


def _record_positions(node: Node | None, pointer: str, out: dict[str, Position]) -> None:
    """Walk the composed node tree, mirroring how values land in the constructed document."""
    if node is None:
        return
    out[pointer] = Position(node.start_mark.line + 1, node.start_mark.column + 1)
    long_name = _FN_TAGS.get(node.tag[1:]) if node.tag.startswith("!") else None
    if long_name is not None:
        inner = pointer_join(pointer, long_name)
        out[inner] = out[pointer]
        if long_name == "Fn::GetAtt" and isinstance(node, ScalarNode):
            out[pointer_join(inner, 0)] = out[pointer]
            out[pointer_join(inner, 1)] = out[pointer]
            return
        pointer = inner
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                continue  # merged keys keep no positions of their own
            _record_positions(value_node, pointer_join(pointer, key_node.value), out)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _record_positions(item, pointer_join(pointer, index), out)


def load_yaml(text: str, file: str, error: type[BadInput] = ConfigError) -> tuple[Any, SourceMap]:
    """Parse one YAML document. Returns (value, SourceMap); syntax errors carry file:line:col."""
    loader = CloudFormationLoader(text)
    loader.file_label = file
    loader.error_type = error
    try:
        node = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    except BadInput:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise error(
            f"invalid YAML: {problem}",
            file=file,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint="fix the syntax and try again",
        ) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()
    smap = SourceMap(file)
    _record_positions(node, "", smap.positions)
    return value, smap


def load_yaml_file(
    path: Path, label: str | None = None, error: type[BadInput] = ConfigError
) -> tuple[Any, SourceMap]:
    """Read and parse a YAML file; `label` is the name used in error messages."""
    file = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{file} is not UTF-8 text ({exc.reason})", file=file) from None
    return load_yaml(text, file, error)
