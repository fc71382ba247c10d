from __future__ import annotations

import pytest

from tooling.config.yaml_loader import load_yaml, load_yaml_file
from tooling.errors import ConfigError, DefinitionError
from tooling.sourcemap import Position


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!GetAtt hello.Arn", {"Fn::GetAtt": ["hello", "Arn"]}),
        ("!GetAtt [hello, Arn]", {"Fn::GetAtt": ["hello", "Arn"]}),
        ("!Ref x", {"Ref": "x"}),
        ("!Sub 'a-${AWS::Region}'", {"Fn::Sub": "a-${AWS::Region}"}),
        ("!Sub ['${a}', {a: !Ref b}]", {"Fn::Sub": ["${a}", {"a": {"Ref": "b"}}]}),
        ("!Join [':', [a, b]]", {"Fn::Join": [":", ["a", "b"]]}),
        ("!ImportValue shared-arn", {"Fn::ImportValue": "shared-arn"}),
        ("!If [cond, a, b]", {"Fn::If": ["cond", "a", "b"]}),
        ("!Select [0, [a]]", {"Fn::Select": [0, ["a"]]}),
        ("!Split [',', 'a,b']", {"Fn::Split": [",", "a,b"]}),
        ("!GetAZs ''", {"Fn::GetAZs": ""}),
        ("!Base64 text", {"Fn::Base64": "text"}),
        ("!Equals [a, b]", {"Fn::Equals": ["a", "b"]}),
        ("!Not [!Equals [a, b]]", {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}),
        (
            "!And [!Condition c1, !Condition c2]",
            {"Fn::And": [{"Condition": "c1"}, {"Condition": "c2"}]},
        ),
        (
            "!Or [!Condition c1, !Condition c2]",
            {"Fn::Or": [{"Condition": "c1"}, {"Condition": "c2"}]},
        ),
        ("!FindInMap [M, k1, k2]", {"Fn::FindInMap": ["M", "k1", "k2"]}),
        ("!Condition c1", {"Condition": "c1"}),
    ],
)
def test_cloudformation_short_tags_load_as_long_forms(text: str, expected: object) -> None:
    value, _ = load_yaml(f"v: {text}\n", "serverless.yml")
    assert value == {"v": expected}


def test_positions_are_one_based_and_keyed_by_json_pointer() -> None:
    text = "service: svc\nprovider:\n  name: aws\nlist:\n  - a\n  - !GetAtt fn.Arn\n"
    value, smap = load_yaml(text, "serverless.yml")
    assert value["list"][1] == {"Fn::GetAtt": ["fn", "Arn"]}
    assert smap.file == "serverless.yml"
    assert smap.positions["/service"] == Position(1, 10)
    assert smap.positions["/provider/name"] == Position(3, 9)
    assert smap.positions["/list/0"] == Position(5, 5)
    assert smap.locate("/list/1/Fn::GetAtt/1") == Position(6, 5)


def test_syntax_error_names_file_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml("a: 1\nb: [1, 2\nc: 3\n", "serverless.yml")
    err = caught.value
    assert (err.file, err.line) == ("serverless.yml", 3)
    assert err.column is not None
    assert "invalid YAML" in err.message
    assert err.render().startswith("serverless.yml:3:")


def test_syntax_error_can_use_another_error_type() -> None:
    with pytest.raises(DefinitionError):
        load_yaml("a: [\n", "machine.yml", DefinitionError)


def test_duplicate_keys_are_an_error_at_the_second_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml("provider:\n  name: aws\n  stage: dev\n  stage: prod\n", "serverless.yml")
    assert (caught.value.line, caught.value.column) == (4, 3)
    assert "duplicate key 'stage'" in caught.value.message
    assert "line 3" in caught.value.message


def test_merge_keys_are_not_duplicates() -> None:
    text = "base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n"
    value, _ = load_yaml(text, "s.yml")
    assert value["child"] == {"x": 1, "y": 3}


def test_yaml_1_1_words_stay_strings_like_serverless() -> None:
    value, _ = load_yaml("a: yes\nb: no\nc: on\nd: true\ne: False\nf: NO\n", "s.yml")
    assert value == {"a": "yes", "b": "no", "c": "on", "d": True, "e": False, "f": "NO"}


def test_python_tags_are_refused_not_executed(tmp_path) -> None:
    marker = tmp_path / "pwned"
    text = f"a: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(ConfigError):
        load_yaml(text, "s.yml")
    assert not marker.exists()


def test_empty_document_is_none() -> None:
    assert load_yaml("# nothing\n", "s.yml")[0] is None


def test_load_yaml_file_uses_the_label(tmp_path) -> None:
    path = tmp_path / "serverless.yml"
    path.write_text("a: [\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_yaml_file(path, "serverless.yml")
    assert caught.value.file == "serverless.yml"
