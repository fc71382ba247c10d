from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tooling.config.variables import Variable, VariableResolver, parse
from tooling.config.yaml_loader import load_yaml
from tooling.errors import ConfigError, DefinitionError


def make_resolver(
    tmp_path: Path,
    text: str,
    *,
    files: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    **kwargs: Any,
) -> VariableResolver:
    for name, content in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    config, smap = load_yaml(text, "serverless.yml")
    return VariableResolver(
        config,
        smap,
        service_dir=tmp_path,
        options=options or {},
        env=env or {},
        account_id="123456789012",
        **kwargs,
    )


def resolve(tmp_path: Path, text: str, **kwargs: Any) -> Any:
    return make_resolver(tmp_path, text, **kwargs).resolve()


# -- sources ----------------------------------------------------------------------------------


def test_self_reads_resolved_values(tmp_path: Path) -> None:
    config = resolve(
        tmp_path,
        "service: svc\ncustom:\n  base: ${self:service}-base\n  name: ${self:custom.base}-x\n",
    )
    assert config["custom"] == {"base": "svc-base", "name": "svc-base-x"}


def test_self_reaches_into_lists_and_whole_objects(tmp_path: Path) -> None:
    config = resolve(
        tmp_path,
        "items: [a, {k: v}]\ncustom:\n  first: ${self:items.0}\n  obj: ${self:items.1}\n",
    )
    assert config["custom"] == {"first": "a", "obj": {"k": "v"}}


def test_self_sibling_reference_is_not_a_cycle(tmp_path: Path) -> None:
    config = resolve(tmp_path, "custom:\n  stage: dev\n  name: app-${self:custom.stage}\n")
    assert config["custom"]["name"] == "app-dev"


def test_opt_and_env(tmp_path: Path) -> None:
    config = resolve(
        tmp_path,
        "a: ${opt:stage}\nb: ${env:HOME_DIR}\nc: ${opt:color, 'blue'}\n",
        options={"stage": "prod"},
        env={"HOME_DIR": "/home/me"},
    )
    assert config == {"a": "prod", "b": "/home/me", "c": "blue"}


@pytest.mark.parametrize(
    ("options", "provider_stage", "expected"),
    [({"stage": "cli"}, "yml", "cli"), ({}, "yml", "yml"), ({}, None, "dev")],
)
def test_sls_stage_precedence(
    tmp_path: Path, options: dict[str, str], provider_stage: str | None, expected: str
) -> None:
    provider = f"provider:\n  stage: {provider_stage}\n" if provider_stage else ""
    config = resolve(tmp_path, provider + "s: ${sls:stage}\n", options=options)
    assert config["s"] == expected


@pytest.mark.parametrize(
    ("options", "provider_region", "expected"),
    [
        ({"region": "eu-west-1"}, "us-west-2", "eu-west-1"),
        ({}, "us-west-2", "us-west-2"),
        ({}, None, "us-east-1"),
    ],
)
def test_aws_region_precedence(
    tmp_path: Path, options: dict[str, str], provider_region: str | None, expected: str
) -> None:
    provider = f"provider:\n  region: {provider_region}\n" if provider_region else ""
    config = resolve(tmp_path, provider + "r: ${aws:region}\n", options=options)
    assert config["r"] == expected


def test_aws_account_id_is_injected(tmp_path: Path) -> None:
    assert resolve(tmp_path, "a: ${aws:accountId}\n")["a"] == "123456789012"


def test_provider_stage_from_opt_feeds_sls_stage(tmp_path: Path) -> None:
    config = resolve(tmp_path, "provider:\n  stage: ${opt:stage, 'qa'}\nname: svc-${sls:stage}\n")
    assert config["name"] == "svc-qa"


# -- files ------------------------------------------------------------------------------------


def test_file_json_whole_and_address(tmp_path: Path) -> None:
    files = {"conf.json": json.dumps({"db": {"host": "h", "port": 5432}})}
    config = resolve(
        tmp_path,
        "all: ${file(conf.json)}\nport: ${file(./conf.json):db.port}\n",
        files=files,
    )
    assert config == {"all": {"db": {"host": "h", "port": 5432}}, "port": 5432}


def test_file_yaml_keeps_cloudformation_tags(tmp_path: Path) -> None:
    files = {"sub/machine.yml": "machines:\n  loop:\n    Resource: !GetAtt hello.Arn\n"}
    config = resolve(tmp_path, "d: ${file(sub/machine.yml):machines.loop}\n", files=files)
    assert config["d"] == {"Resource": {"Fn::GetAtt": ["hello", "Arn"]}}


def test_file_with_other_extension_is_text(tmp_path: Path) -> None:
    config = resolve(tmp_path, "t: ${file(notes.txt)}\n", files={"notes.txt": "hello\n"})
    assert config["t"] == "hello\n"


def test_variables_inside_a_loaded_file_are_resolved(tmp_path: Path) -> None:
    files = {
        "conf.yml": "name: ${self:service}-${opt:stage, 'dev'}\nregion: ${aws:region}\n",
    }
    config = resolve(tmp_path, "service: svc\nc: ${file(conf.yml)}\n", files=files)
    assert config["c"] == {"name": "svc-dev", "region": "us-east-1"}


def test_missing_file_uses_the_fallback(tmp_path: Path) -> None:
    config = resolve(tmp_path, "a: ${file(nope.json), 'fb'}\nb: ${file(nope.json):x, 7}\n")
    assert config == {"a": "fb", "b": 7}


def test_missing_file_without_fallback_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "a: ${file(nope.json)}\n")
    assert "file nope.json not found" in caught.value.message
    assert (caught.value.file, caught.value.line, caught.value.column) == ("serverless.yml", 1, 4)


def test_broken_json_file_names_its_own_line_and_column(tmp_path: Path) -> None:
    files = {"x.json": '{\n  "a": 1,\n  "b" 2\n}\n'}
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "a: ${file(x.json)}\n", files=files)
    assert (caught.value.file, caught.value.line, caught.value.column) == ("x.json", 3, 7)


def test_error_type_can_depend_on_where_the_file_is_used(tmp_path: Path) -> None:
    resolver = make_resolver(
        tmp_path,
        "ok: 1\ndef: ${file(x.json)}\n",
        files={"x.json": "{"},
        error_type_for=lambda pointer: DefinitionError if pointer == "/def" else ConfigError,
    )
    with pytest.raises(DefinitionError) as caught:
        resolver.resolve()
    assert caught.value.file == "x.json"


def test_origin_of_a_file_value(tmp_path: Path) -> None:
    files = {"conf.json": '{"a": {"b": [1, 2]}}'}
    resolver = make_resolver(tmp_path, "x: ${file(conf.json):a}\ny: {z: 1}\n", files=files)
    smap, pointer = resolver.origin("/x")
    assert (smap.file, pointer) == ("conf.json", "/a")
    smap, pointer = resolver.origin("/x/b/1")
    assert (smap.file, pointer) == ("conf.json", "/a/b/1")
    assert smap.positions[pointer].column == 17
    smap, pointer = resolver.origin("/y/z")
    assert (smap.file, pointer) == ("serverless.yml", "/y/z")


# -- fallbacks, literals, nesting -----------------------------------------------------------------


def test_fallback_chain_and_literals(tmp_path: Path) -> None:
    text = (
        "b: from-b\n"
        'chain: ${env:A, self:b, "x"}\n'
        "single: ${env:A, 'dev'}\n"
        'double: ${env:A, "d"}\n'
        "int: ${env:A, 5}\n"
        "float: ${env:A, 2.5}\n"
        "yes: ${env:A, true}\n"
        "no: ${env:A, false}\n"
        "nothing: ${env:A, null}\n"
    )
    config = resolve(tmp_path, text)
    assert config == {
        "b": "from-b",
        "chain": "from-b",
        "single": "dev",
        "double": "d",
        "int": 5,
        "float": 2.5,
        "yes": True,
        "no": False,
        "nothing": None,
    }


def test_env_wins_over_fallback(tmp_path: Path) -> None:
    assert resolve(tmp_path, "a: ${env:A, 'x'}\n", env={"A": "set"})["a"] == "set"


def test_bare_word_fallback_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "stage: ${opt:stage, dev}\n")
    assert "'dev'" in caught.value.message
    assert (caught.value.line, caught.value.column) == (1, 8)


def test_nested_variables_in_address_and_params(tmp_path: Path) -> None:
    files = {"c.prod.json": '{"k": "prod-value"}', "c.dev.json": '{"k": "dev-value"}'}
    text = (
        "e: ${env:${opt:stage}_X}\n"
        "f: ${file(./c.${opt:stage, 'dev'}.json):k}\n"
        "g: ${file(./c.${env:NOPE, 'dev'}.json):k}\n"
    )
    config = resolve(tmp_path, text, files=files, options={"stage": "prod"}, env={"prod_X": "px"})
    assert config == {"e": "px", "f": "prod-value", "g": "dev-value"}


def test_whole_value_keeps_its_type_embedded_becomes_text(tmp_path: Path) -> None:
    text = "n: 3\nobj: {a: 1}\nwhole: ${self:n}\nwholeobj: ${self:obj}\ntext: n=${self:n}!\n"
    config = resolve(tmp_path, text)
    assert config["whole"] == 3
    assert config["wholeobj"] == {"a": 1}
    assert config["text"] == "n=3!"


def test_embedded_object_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "obj: {a: 1}\ntext: x-${self:obj}\n")
    assert "part of a longer string" in caught.value.message
    assert (caught.value.line, caught.value.column) == (2, 7)


def test_foreign_notations_and_escapes_are_left_alone(tmp_path: Path) -> None:
    text = (
        "sub: 'arn:${AWS::Partition}:s3:::${Bucket}/${foo::bar}-${stageVariables.x}'\n"
        "mixed: '${AWS::Region}-${opt:stage}'\n"
        "escaped: '\\${opt:stage}'\n"
    )
    config = resolve(tmp_path, text, options={"stage": "dev"})
    assert config["sub"] == "arn:${AWS::Partition}:s3:::${Bucket}/${foo::bar}-${stageVariables.x}"
    assert config["mixed"] == "${AWS::Region}-dev"
    assert config["escaped"] == "${opt:stage}"


# -- errors -----------------------------------------------------------------------------------


def test_unresolvable_env_error_names_file_line_column_and_variable(tmp_path: Path) -> None:
    text = (
        "service: svc\nprovider:\n  name: aws\nfunctions:\n  hello:\n"
        "    environment:\n      A: ${env:FOO}\n"
    )
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, text)
    assert str(caught.value) == (
        "serverless.yml:7:10: cannot resolve ${env:FOO}: the variable is not set "
        "(set it or give a fallback: ${env:FOO, 'x'})"
    )


def test_unresolvable_chain_lists_every_reason(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "a: ${opt:stage, env:STAGE}\n")
    assert "option --stage was not given" in caught.value.message
    assert "the variable is not set" in caught.value.message


def test_missing_self_value_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "a: ${self:custom.nope}\n")
    assert "custom.nope is not set" in caught.value.message


def test_error_inside_a_loaded_file_points_into_that_file(tmp_path: Path) -> None:
    files = {"conf.yml": "x: 1\ny: ${env:MISSING}\n"}
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "c: ${file(conf.yml)}\n", files=files)
    assert (caught.value.file, caught.value.line, caught.value.column) == ("conf.yml", 2, 4)


def test_cycle_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "a: ${self:b}\nb: x-${self:a}\n")
    assert "circular reference" in caught.value.message
    assert "a -> b -> a" in caught.value.message


def test_self_reference_to_own_parent_is_a_cycle(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "custom:\n  a: ${self:custom}\n")
    assert "circular reference" in caught.value.message


def test_unsupported_source_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "a: ${vault:/path/to/param}\n")
    assert "unsupported variable source 'vault'" in caught.value.message


def test_unterminated_variable_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "a: ${opt:stage\n")
    assert "invalid variable syntax" in caught.value.message


def test_resolution_is_lazy_per_pointer(tmp_path: Path) -> None:
    resolver = make_resolver(tmp_path, "good: ${opt:x, 1}\nbad: ${ssm:/p}\n")
    assert resolver.resolve("/good") == 1
    assert resolver.resolve("/absent") is None


# -- parser ------------------------------------------------------------------------------------


def test_parse_splits_text_and_variables() -> None:
    parts = parse("a-${opt:stage}-b")
    assert parts[0] == "a-" and parts[2] == "-b"
    assert isinstance(parts[1], Variable) and parts[1].text == "${opt:stage}"


def test_parse_leaves_plain_text() -> None:
    assert parse("plain ${Foo} text") == ("plain ${Foo} text",)
