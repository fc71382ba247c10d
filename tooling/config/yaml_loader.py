"""Safe YAML loading for serverless.yml: CloudFormation short tags, positions, strict keys.

Serverless parses its YAML with a CloudFormation schema, so `!GetAtt hello.Arn` and friends are
legal there; here they load as their long JSON forms. Every value's 1-based line/column is kept
by JSON pointer in a `SourceMap`, like `tooling.sourcemap.load_json` does for JSON.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

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


class CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation short tags, duplicate-key errors and YAML 1.2 booleans."""

    file_label = "<yaml>"

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
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _make_constructor(long_name: str):  # noqa: ANN202 - PyYAML callback
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
