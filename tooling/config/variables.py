"""Serverless v3 variables (`${source:address}`) resolved over a loaded serverless.yml.

Supported sources: self, opt, sls (stage, instanceId), env, file, aws (region, accountId), param
(`--param` values, then `params.<stage>`, then `params.default`, as Serverless v3's dashboard
plugin orders them) and strToBool. `ssm`, `cf` and `s3` read AWS services through an
`ExternalSources` port (tooling.config.external; tooling.aws.variables reads AWS or the local AWS
services); without a reader their fallback is used with a warning, or the error says how to give
the value. Grammar follows
Serverless v3 `lib/configuration/variables/parse.js`: comma fallbacks, quoted/number/boolean/null
literals, nesting in params and addresses, foreign `${AWS::Region}` / `${Foo}` / `${a::b}` left as
they are, `\\${` escapes. Resolution is lazy and per JSON pointer, so `${self:...}` may point at
values that hold variables themselves, and cycles are reported instead of looping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.config.constructs import LIFT_PLUGIN, construct_reference
from tooling.config.external import ExternalSources, Unwired
from tooling.config.js_file_source import JsFileAnswerer, JsFileError, is_js_file, js_file_value
from tooling.config.missing import MISSING
from tooling.errors import BadInput, ConfigError
from tooling.sourcemap import SourceMap, load_json, pointer_join

_TYPE = re.compile(r"[a-z][a-zA-Z0-9]*")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
SUPPORTED_SOURCES = (
    "self", "opt", "sls", "env", "file", "aws", "param", "strToBool", "construct",
)  # fmt: skip
# Sources whose values live in AWS services (Serverless v3 lib/configuration/variables/sources).
AWS_SERVICE_SOURCES = ("ssm", "cf", "s3")
_TRUE_TEXT = ("true", "1")  # Serverless v3 sources/str-to-bool.js
_FALSE_TEXT = ("false", "0")
# Sources other tools resolve, named in the refusal: the toolkit runs no plugin.
OTHER_SOURCES = {
    "construct": "serverless-lift's: `plugins:` does not name serverless-lift",
    "output": "Serverless Dashboard outputs",
    "terraform": "a Serverless v4 resolver",
    "vault": "a Serverless v4 resolver",
    "doppler": "a Serverless v4 resolver",
}


# ---------------------------------------------------------------------------------------------
# Syntax


@dataclass(frozen=True)
class Template:
    """Text that may embed variables: a param or an address."""

    parts: tuple[str | Variable, ...]


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Source:
    type: str
    params: tuple[Template, ...] | None
    address: Template | None


@dataclass(frozen=True)
class Variable:
    text: str  # as written, e.g. "${opt:stage, 'dev'}"
    sources: tuple[Source | Literal | Variable, ...]


class VariableSyntaxError(Exception):
    pass


def parse(text: str) -> tuple[str | Variable, ...]:
    """Split a string into literal text and variables. No variables -> one text part (or none)."""
    parts: list[str | Variable] = []
    buffer: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("\\${", i):
            buffer.append("${")
            i += 3
        elif text.startswith("${", i) and _is_variable_start(text, i + 2):
            variable, i = _parse_variable(text, i)
            if buffer:
                parts.append("".join(buffer))
                buffer = []
            parts.append(variable)
        else:
            buffer.append(text[i])
            i += 1
    if buffer:
        parts.append("".join(buffer))
    return tuple(parts)


def _is_variable_start(text: str, i: int) -> bool:
    """`${type:` or `${type(`; anything else (`${AWS::Region}`, `${Foo}`) is a foreign notation."""
    match = _TYPE.match(text, i)
    if not match:
        return False
    end = match.end()
    if end >= len(text):
        return False
    if text[end] == "(":
        return True
    return text[end] == ":" and not text.startswith("::", end)


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def _parse_variable(text: str, start: int) -> tuple[Variable, int]:
    """Parse `${...}` from `start` (the `$`); returns the variable and the index after `}`."""
    i = start + 2
    sources: list[Source | Literal | Variable] = []
    while True:
        i = _skip_spaces(text, i)
        source, i = _parse_source(text, i)
        sources.append(source)
        i = _skip_spaces(text, i)
        if i >= len(text):
            raise VariableSyntaxError(f"missing closing '}}' in {text[start:]}")
        if text[i] == "}":
            return Variable(text[start : i + 1], tuple(sources)), i + 1
        if text[i] != ",":
            raise VariableSyntaxError(f"unexpected {text[i]!r} in {text[start:]}")
        i += 1


def _parse_quoted(text: str, i: int) -> tuple[str, int]:
    quote = text[i]
    if quote == "'":
        end = text.find("'", i + 1)
        if end < 0:
            raise VariableSyntaxError(f"unterminated string literal in {text}")
        return text[i + 1 : end], end + 1
    j = i + 1
    while j < len(text) and text[j] != '"':
        j += 2 if text[j] == "\\" else 1
    if j >= len(text):
        raise VariableSyntaxError(f"unterminated string literal in {text}")
    try:
        return json.loads(text[i : j + 1]), j + 1
    except json.JSONDecodeError as exc:
        raise VariableSyntaxError(f"invalid string literal {text[i : j + 1]}: {exc.msg}") from None


def _parse_source(text: str, i: int) -> tuple[Source | Literal | Variable, int]:
    if i >= len(text):
        raise VariableSyntaxError(f"missing closing '}}' in {text}")
    if text[i] in "'\"":
        value, i = _parse_quoted(text, i)
        return Literal(value), i
    if text.startswith("${", i):
        if not _is_variable_start(text, i + 2):
            raise VariableSyntaxError(f"invalid nested variable in {text}")
        return _parse_variable(text, i)
    match = _TYPE.match(text, i)
    if match and match.end() < len(text) and text[match.end()] in ":(":
        return _parse_typed_source(text, match.group(), match.end())
    end = i
    while end < len(text) and text[end] not in ",}":
        end += 1
    word = text[i:end].strip()
    if word in ("true", "false", "null"):
        return Literal({"true": True, "false": False, "null": None}[word]), end
    if _NUMBER.fullmatch(word):
        number = float(word)
        return Literal(int(number) if number.is_integer() and "." not in word else number), end
    raise VariableSyntaxError(
        f"invalid fallback {word!r}: a literal must be quoted ('{word}'), a number, "
        "true, false or null"
    )


def _parse_typed_source(text: str, type_name: str, i: int) -> tuple[Source, int]:
    params: list[Template] | None = None
    if text[i] == "(":
        params = []
        i += 1
        while True:
            i = _skip_spaces(text, i)
            if i < len(text) and text[i] == ")":
                i += 1
                break
            if i < len(text) and text[i] in "'\"":
                value, i = _parse_quoted(text, i)
                params.append(Template((value,)))
            else:
                template, i = _parse_template(text, i, ",)")
                params.append(template)
            i = _skip_spaces(text, i)
            if i >= len(text):
                raise VariableSyntaxError(f"missing ')' in {text}")
            if text[i] == ",":
                i += 1
        i = _skip_spaces(text, i)
        if i >= len(text) or text[i] != ":":
            return Source(type_name, tuple(params), None), i
    # at ':'
    i = _skip_spaces(text, i + 1)
    if i < len(text) and text[i] in "'\"":
        value, i = _parse_quoted(text, i)
        return Source(type_name, None if params is None else tuple(params), Template((value,))), i
    address, i = _parse_template(text, i, ",}")
    return Source(type_name, None if params is None else tuple(params), address), i


def _parse_template(text: str, i: int, stops: str) -> tuple[Template, int]:
    parts: list[str | Variable] = []
    buffer: list[str] = []
    while i < len(text) and text[i] not in stops:
        if text.startswith("${", i):
            if not _is_variable_start(text, i + 2):
                raise VariableSyntaxError(f"invalid nested variable in {text}")
            if buffer:
                parts.append("".join(buffer))
                buffer = []
            variable, i = _parse_variable(text, i)
            parts.append(variable)
        else:
            buffer.append(text[i])
            i += 1
    if i >= len(text):
        raise VariableSyntaxError(f"missing closing '}}' in {text}")
    if buffer:
        parts.append("".join(buffer))
    if parts and isinstance(parts[0], str):
        parts[0] = parts[0].lstrip()
    if parts and isinstance(parts[-1], str):
        parts[-1] = parts[-1].rstrip()
    return Template(tuple(p for p in parts if p != "")), i


# ---------------------------------------------------------------------------------------------
# Resolution


@dataclass(eq=False)
class Document:
    """A loaded file: serverless.yml or one read through `${file(...)}`."""

    value: Any
    source: SourceMap


def _split_pointer(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [seg.replace("~1", "/").replace("~0", "~") for seg in pointer[1:].split("/")]


def _dotted(pointer: str) -> str:
    return ".".join(_split_pointer(pointer)) or "(root)"


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    return "null" if value is None else type(value).__name__


class VariableResolver:
    """Resolves variables in one serverless.yml, lazily and with memoisation per value."""

    def __init__(
        self,
        config: Any,
        source_map: SourceMap,
        *,
        service_dir: Path,
        options: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        account_id: str = "000000000000",
        error_type_for: Callable[[str], type[BadInput]] | None = None,
        params: Mapping[str, str] | None = None,
        instance_id: str = "",
        external: ExternalSources | None = None,
    ) -> None:
        self.main = Document(config, source_map)
        self.service_dir = service_dir
        self.options = dict(options or {})
        self.env = dict(env or {})
        self.account_id = account_id
        self.params = dict(params or {})  # --param key=value, which win over params:
        self.instance_id = instance_id
        self.external: ExternalSources = external or Unwired()
        self.warnings: list[str] = []  # fallbacks used in place of unread AWS values
        self._error_type_for = error_type_for or (lambda _pointer: ConfigError)
        self._strings: dict[tuple[int, str], Any] = {}
        self._origins: dict[tuple[int, str], tuple[Document, str]] = {}
        self._stack: list[tuple[Document, str]] = []
        self._files: dict[Path, Document] = {}
        self._parsed: dict[str, tuple[str | Variable, ...]] = {}

    # -- public ---------------------------------------------------------------------------

    def resolve(self, pointer: str = "") -> Any:
        """The fully resolved value at `pointer` in serverless.yml (None when absent)."""
        value, _ = self._lookup(self.main, _split_pointer(pointer))
        return None if value is MISSING else value

    def origin(self, pointer: str) -> tuple[SourceMap, str]:
        """Where the value at `pointer` came from: (its file's SourceMap, pointer in that file).

        A value written as exactly `${file(x.json)}` or `${self:a.b}` comes from there."""
        _, found = self._lookup(self.main, _split_pointer(pointer))
        doc, at = found or (self.main, pointer)
        return doc.source, at

    def stage(self) -> str:
        return str(self._first_set(self.options.get("stage"), ["provider", "stage"], "dev"))

    def region(self) -> str:
        return str(self._first_set(self.options.get("region"), ["provider", "region"], "us-east-1"))

    # -- walking ----------------------------------------------------------------------------

    def _first_set(self, option: Any, path: list[str], default: str) -> Any:
        if option not in (None, ""):
            return option
        value, _ = self._lookup(self.main, path)
        return default if value in (MISSING, None, "") else value

    def _lookup(
        self, doc: Document, segments: list[str]
    ) -> tuple[Any, tuple[Document, str] | None]:
        """Walk `segments` from the root of `doc`, resolving only what lies on the way.

        Returns (value or MISSING, origin) where origin is the raw (document, pointer) the value
        was read from, when it has one."""
        node: Any = doc.value
        pointer = ""
        origin: tuple[Document, str] | None = (doc, "")
        raw = True  # still inside doc's unresolved tree
        for segment in segments:
            if raw and isinstance(node, str):
                node = self._resolve_string(doc, pointer, node)
                origin = self._origins.get((id(doc), pointer))
                raw = False
            node = _child(node, segment)
            if node is MISSING:
                return MISSING, None
            pointer = pointer_join(pointer, segment)
            origin = (origin[0], pointer_join(origin[1], segment)) if origin else None
            if not raw and origin is not None:
                # The value may itself have come from another file (serverless.yml -> sm.yml
                # -> def.yml): follow the chain to where it is written.
                origin = self._follow(origin)
        if raw:
            was_text = isinstance(node, str)
            node = self._deep(doc, pointer, node)
            if was_text:  # exactly `${file(...)}` / `${self:...}`: the value lives elsewhere
                origin = self._origins.get((id(doc), pointer))
        return node, origin

    def _follow(self, origin: tuple[Document, str]) -> tuple[Document, str]:
        seen = {(id(origin[0]), origin[1])}
        while True:
            further = self._origins.get((id(origin[0]), origin[1]))
            if further is None or (id(further[0]), further[1]) in seen:
                return origin
            origin = further
            seen.add((id(origin[0]), origin[1]))

    def _deep(self, doc: Document, pointer: str, node: Any) -> Any:
        if isinstance(node, dict):
            return {k: self._deep(doc, pointer_join(pointer, k), v) for k, v in node.items()}
        if isinstance(node, list):
            return [self._deep(doc, pointer_join(pointer, i), v) for i, v in enumerate(node)]
        if isinstance(node, str):
            return self._resolve_string(doc, pointer, node)
        return node

    # -- strings ----------------------------------------------------------------------------

    def _error(self, doc: Document, pointer: str, message: str, hint: str | None) -> BadInput:
        return ConfigError(message, hint=hint, **doc.source.error_kwargs(pointer))

    def _resolve_string(self, doc: Document, pointer: str, text: str) -> Any:
        key = (id(doc), pointer)
        if key in self._strings:
            return self._strings[key]
        if (doc, pointer) in self._stack:
            first = self._stack.index((doc, pointer))
            chain = [_dotted(p) for _, p in self._stack[first:]] + [_dotted(pointer)]
            raise self._error(
                doc,
                pointer,
                f"cannot resolve {text}: circular reference ({' -> '.join(chain)})",
                "break the cycle: one of these values must not refer back",
            )
        parts = self._parsed.get(text)
        if parts is None:
            try:
                parts = parse(text)
            except VariableSyntaxError as exc:
                raise self._error(
                    doc, pointer, f"invalid variable syntax: {exc}", "see ${source:address}"
                ) from None
            self._parsed[text] = parts
        self._stack.append((doc, pointer))
        try:
            if len(parts) == 1 and isinstance(parts[0], Variable):
                value, origin = self._evaluate(parts[0], doc, pointer)
                if origin is not None:
                    self._origins[key] = origin
            else:
                value = "".join(
                    part
                    if isinstance(part, str)
                    else self._as_text(part, self._evaluate(part, doc, pointer)[0], doc, pointer)
                    for part in parts
                )
        finally:
            self._stack.pop()
        self._strings[key] = value
        return value

    def _as_text(self, variable: Variable, value: Any, doc: Document, pointer: str) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise self._error(
            doc,
            pointer,
            f"cannot resolve {variable.text}: it gives {_type_name(value)}, "
            "but it is part of a longer string",
            "only strings and numbers can be embedded in text; use the variable as the whole value",
        )

    def _template(self, template: Template, doc: Document, pointer: str) -> str:
        return "".join(
            part
            if isinstance(part, str)
            else self._as_text(part, self._evaluate(part, doc, pointer)[0], doc, pointer)
            for part in template.parts
        )

    def _evaluate(
        self, variable: Variable, doc: Document, pointer: str
    ) -> tuple[Any, tuple[Document, str] | None]:
        """Value of the first source that gives one (not null), or an error with the reasons."""
        reasons: list[str] = []
        unread: list[str] = []  # AWS-service sources skipped for a fallback
        for source in variable.sources:
            if isinstance(source, Literal | Variable):
                if isinstance(source, Literal):
                    value, origin = source.value, None
                else:
                    value, origin = self._evaluate(source, doc, pointer)
                self._warn_unread(unread, variable, value, doc, pointer)
                return value, origin
            value, origin, reason = self._source(source, doc, pointer)
            if value is not MISSING and value is not None:
                self._warn_unread(unread, variable, value, doc, pointer)
                return value, origin
            if source.type in AWS_SERVICE_SOURCES and isinstance(self.external, Unwired):
                unread.append(source.type)
            reasons.append(reason)
        example = variable.text[:-1] + ", 'x'}"
        if len(reasons) == 1:
            source = variable.sources[0]
            assert isinstance(source, Source)
            action = {
                "env": "set it",
                "opt": "pass the option",
                "file": "create the file",
                "self": "add the value",
                "param": f"pass --param {_param_example(source)}=VALUE, set it under "
                "params.<stage> or params.default in serverless.yml,",
            }.get(source.type, "fix it")
            if source.type in AWS_SERVICE_SOURCES:
                action = "give the value another way (e.g. ${param:NAME} with --param NAME=VALUE)"
                how_to_set = getattr(self.external, "how_to_set", None)
                if how_to_set is not None and source.address is not None:
                    address = self._template(source.address, doc, pointer)
                    action = f"set it ({how_to_set(source.type, address)}), {action},"
            hint = f"{action} or give a fallback: {example}"
        else:
            hint = f"give a literal fallback, e.g. {example}"
        raise self._error(
            doc, pointer, f"cannot resolve {variable.text}: {'; '.join(reasons)}", hint
        )

    def _warn_unread(
        self, unread: list[str], variable: Variable, value: Any, doc: Document, pointer: str
    ) -> None:
        """A fallback stood in for an AWS value the toolkit cannot read yet: say so, since on
        AWS the real value may differ."""
        if not unread:
            return
        kw = doc.source.error_kwargs(pointer)
        where = ":".join(str(p) for p in (kw["file"], kw["line"], kw["column"]) if p is not None)
        sources = ", ".join(f"${{{kind}:}}" for kind in unread)
        self.warnings.append(
            f"{where}: {variable.text}: the toolkit does not read {sources} values yet "
            f"(variables from AWS services); using the fallback {json.dumps(value)}"
        )

    def _source(
        self, source: Source, doc: Document, pointer: str
    ) -> tuple[Any, tuple[Document, str] | None, str]:
        """(value or MISSING, origin, reason when missing) for one typed source."""
        kind = source.type
        if kind == "strToBool":
            return self._str_to_bool(source, doc, pointer), None, ""
        address = "" if source.address is None else self._template(source.address, doc, pointer)
        if kind == "self":
            segments = _address_segments(address)
            value, origin = self._lookup(self.main, segments)
            if value in (MISSING, None) and segments == ["provider", "stage"]:
                # Serverless v3 sets provider.stage to "dev" when it is not written, before it
                # resolves the variables (lib/classes/service.js): --stage does not change it.
                return "dev", None, ""
            if value is MISSING and segments == ["service", "name"]:
                return self._service_name_v2(doc, pointer)
            return value, origin, f"{address or '(root)'} is not set in {self.main.source.file}"
        if kind == "opt":
            return self.options.get(address, MISSING), None, f"option --{address} was not given"
        if kind == "env":
            return self.env.get(address, MISSING), None, "the variable is not set"
        if kind == "sls" and address == "stage":
            return self.stage(), None, ""
        if kind == "sls" and address == "instanceId":
            return self.instance_id, None, ""
        if kind == "param":
            return self._param(address, doc, pointer)
        if kind in AWS_SERVICE_SOURCES:
            expected = {"ssm": "/path/to/param", "cf": "<stack-name>.<output-id>",
                        "s3": "<bucket-name>/<key>"}[kind]  # fmt: skip
            separator = {"cf": ".", "s3": "/"}.get(kind, "")
            if not address or (separator and separator not in address.strip(separator)):
                # Serverless v3 get-cf.js / get-s3.js / get-ssm.js refuse these the same way.
                raise self._error(
                    doc,
                    pointer,
                    f'unsupported address {address!r} in variable "{kind}" source',
                    f"write ${{{kind}:{expected}}}",
                )
            if kind == "ssm" and re.search(r"~(true|split)$", address):
                # Serverless v2's legacy instructions; v3 decrypts SecureStrings and splits
                # StringLists by itself and reads "~true" as part of the name (get-ssm.js).
                raise self._error(
                    doc,
                    pointer,
                    f'${{ssm:{address}}}: the "~true"/"~split" suffixes are Serverless v2 '
                    "syntax; v3 decrypts SecureString and splits StringList values by itself",
                    f"write ${{ssm:{re.sub(r'~(true|split)$', '', address)}}} (and ${{ssm(raw):"
                    "...}} to keep a value as written)",
                )
            params = [self._template(p, doc, pointer) for p in source.params or ()]
            value = self.external.resolve(kind, address, tuple(params))
            return value, None, self.external.missing_reason(kind, address)
        if kind == "aws" and address == "region":
            return self.region(), None, ""
        if kind == "aws" and address == "accountId":
            return self.account_id, None, ""
        if kind == "file":
            return self._file_source(source, address, doc, pointer)
        if kind == "construct" and self._lift():
            constructs, _ = self._lookup(self.main, ["constructs"])
            value, why = construct_reference(constructs, address)
            if why is not None:
                raise self._error(
                    doc,
                    pointer,
                    f"${{construct:{address}}}: {why}",
                    "e.g. ${construct:jobs.queueUrl} for the queue construct `jobs`",
                )
            return value, None, ""
        if kind in ("sls", "aws"):
            raise self._error(
                doc,
                pointer,
                f"unsupported variable ${{{kind}:{address}}}",
                "supported: ${sls:stage}, ${sls:instanceId}, ${aws:region}, ${aws:accountId}",
            )
        made_by = OTHER_SOURCES.get(kind)
        raise self._error(
            doc,
            pointer,
            f"unsupported variable source '{kind}'" + (f" ({made_by})" if made_by else ""),
            f"supported sources: {', '.join(SUPPORTED_SOURCES)}",
        )

    def _lift(self) -> bool:
        """Whether `plugins:` names serverless-lift, which resolves `${construct:}`."""
        plugins, _ = self._lookup(self.main, ["plugins"])
        if isinstance(plugins, dict):
            plugins = plugins.get("modules")
        return isinstance(plugins, list) and LIFT_PLUGIN in plugins

    def _service_name_v2(
        self, doc: Document, pointer: str
    ) -> tuple[Any, tuple[Document, str] | None, str]:
        """`${self:service.name}` with `service: <name>`: Serverless v1 and v2 read it as the
        service's name (lib/classes/Variables.js getValueFromSelf, v2.72.4); v3 finds no value."""
        value, origin = self._lookup(self.main, ["service"])
        if not isinstance(value, str):
            return MISSING, None, f"service.name is not set in {self.main.source.file}"
        kw = doc.source.error_kwargs(pointer)
        where = ":".join(str(p) for p in (kw["file"], kw["line"], kw["column"]) if p is not None)
        warning = (
            f"{where}: ${{self:service.name}} is read as the service's name, as Serverless v1 "
            "and v2 read it (v3 finds no value there): write ${self:service}"
        )
        if warning not in self.warnings:
            self.warnings.append(warning)
        return value, origin, ""

    def _param(
        self, address: str, doc: Document, pointer: str
    ) -> tuple[Any, tuple[Document, str] | None, str]:
        """`--param` first, then `params.<stage>`, then `params.default`; null values skip."""
        if not address:
            raise self._error(
                doc, pointer, 'missing address in variable "param" source', "e.g. ${param:domain}"
            )
        if self.params.get(address) is not None:
            return self.params[address], None, ""
        stage = self.stage()
        for group in (stage, "default"):
            value, origin = self._lookup(self.main, ["params", group, address])
            if value is not MISSING and value is not None:
                return value, origin, ""
        return MISSING, None, f"no parameter {address!r} for stage {stage}"

    def _str_to_bool(self, source: Source, doc: Document, pointer: str) -> bool:
        """Serverless v3 sources/str-to-bool.js: "true"/"1" and "false"/"0", trimmed, any case."""
        if not source.params:
            raise self._error(
                doc, pointer, 'missing "strToBool" input', "e.g. ${strToBool(${env:FLAG})}"
            )
        text = self._template(source.params[0], doc, pointer).strip().lower()
        if text in _TRUE_TEXT:
            return True
        if text in _FALSE_TEXT:
            return False
        raise self._error(
            doc,
            pointer,
            f'invalid "strToBool" input {text!r}: expected "true", "false", "0" or "1"',
            "give one of those four values",
        )

    def _file_source(
        self, source: Source, address: str, doc: Document, pointer: str
    ) -> tuple[Any, tuple[Document, str] | None, str]:
        if not source.params:
            raise self._error(doc, pointer, "${file(...)} needs a path", "e.g. ${file(x.json)}")
        written = self._template(source.params[0], doc, pointer)
        path = (self.service_dir / written).resolve()
        if not path.is_file():
            return MISSING, None, f"file {written} not found"
        if is_js_file(path):
            return (
                self._js_file(path, written, address, doc, pointer),
                None,
                (f"file {written} gives nothing" + (f" at {address}" if address else "")),
            )
        loaded = self._load_file(path, written)
        value, origin = self._lookup(loaded, _address_segments(address))
        where = f" has no {address}" if address else " is empty"
        return value, origin, f"file {written}{where}"

    def _js_file(self, path: Path, written: str, address: str, doc: Document, pointer: str) -> Any:
        """The value a JavaScript module gives (tooling.config.js_file_source); what it asks
        for is resolved here, in the place of the variable that loads it."""

        def variable(text: str) -> Any:
            try:
                parts = parse("${" + text + "}")
            except VariableSyntaxError as exc:
                raise ValueError(f'invalid variable "{text}": {exc}') from None
            if len(parts) != 1 or not isinstance(parts[0], Variable):
                raise ValueError(f'invalid variable "{text}"')
            return self._evaluate(parts[0], doc, pointer)[0]

        def configuration_property(keys: list[str]) -> Any:
            value, _ = self._lookup(self.main, keys)
            return None if value is MISSING else value

        try:
            found, value = js_file_value(
                self.service_dir.resolve(),
                path,
                _address_segments(address),
                options=self.options,
                env=self.env,
                answer=JsFileAnswerer(variable, configuration_property),
            )
        except JsFileError as exc:
            where = "".join(f":{exc.where[key]}" for key in ("line", "column") if key in exc.where)
            spot = f" ({exc.where['file']}{where})" if exc.where else ""
            raise self._error(
                doc,
                pointer,
                f"cannot resolve ${{file({written})}}: {exc}{spot}",
                "fix the module (Serverless would fail on it too), or install what it imports "
                "(`npm ci`)",
            ) from None
        return value if found else MISSING

    def _load_file(self, path: Path, written: str) -> Document:
        cached = self._files.get(path)
        if cached is not None:
            return cached
        try:
            label = path.relative_to(self.service_dir.resolve()).as_posix()
        except ValueError:
            label = written
        outermost = self._stack[0][1] if self._stack else ""
        error = self._error_type_for(outermost)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise error(f"cannot read {label}: {exc}", file=label) from None
        suffix = path.suffix.lower()
        if suffix == ".json":
            value, smap = load_json(text, label, error=error)
        elif suffix in (".yml", ".yaml"):
            from tooling.config.yaml_loader import load_yaml

            value, smap = load_yaml(text, label, error=error)
        else:
            value, smap = text, SourceMap(label)
        document = Document(value, smap)
        self._files[path] = document
        return document


def _param_example(source: Source) -> str:
    address = source.address
    if address is not None and len(address.parts) == 1 and isinstance(address.parts[0], str):
        return address.parts[0]
    return "NAME"


def _address_segments(address: str) -> list[str]:
    return [segment for segment in address.split(".") if segment] if address else []


def _child(node: Any, segment: str) -> Any:
    if isinstance(node, dict):
        if segment in node:
            return node[segment]
        for key in node:  # YAML keys may be numbers or booleans
            if not isinstance(key, str) and str(key) == segment:
                return node[key]
        return MISSING
    if isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
        return node[int(segment)]
    return MISSING
