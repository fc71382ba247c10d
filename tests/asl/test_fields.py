"""The one field table: `tool validate` and the engine allow exactly the fields it lists, per
state type and query language, and the engine refuses (never skips) what it does not run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tooling.asl import fields
from tooling.asl.fields import JSONATA, JSONPATH, QUERY_LANGUAGES, STATE_TYPES
from tooling.engine import parse_definition
from tooling.errors import DefinitionError
from tooling.sourcemap import load_json
from tooling.validate import validate_definition

# A definition in which each state type is valid with the fields it needs.
BASES: dict[str, dict[str, Any]] = {
    "Pass": {"Type": "Pass", "End": True},
    "Task": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f"},
    "Choice": {"Type": "Choice", "Choices": [{"Next": "Done"}], "Default": "Done"},
    "Wait": {"Type": "Wait", "Seconds": 1, "End": True},
    "Succeed": {"Type": "Succeed"},
    "Fail": {"Type": "Fail"},
    "Parallel": {
        "Type": "Parallel",
        "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}],
        "End": True,
    },
    "Map": {
        "Type": "Map",
        "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}},
        "End": True,
    },
}


def definition(kind: str, language: str, key: str) -> dict[str, Any]:
    state = dict(BASES[kind])
    if kind == "Task":
        state["End"] = True
    if kind == "Choice":
        rule = {"Condition": True} if language == JSONATA else {"Variable": "$", "IsNull": False}
        state["Choices"] = [{**rule, "Next": "Done"}]
    state[key] = "placeholder"
    return {
        "QueryLanguage": language,
        "StartAt": "S",
        "States": {"S": state, "Done": {"Type": "Succeed"}},
    }


def table_rows() -> list[tuple[str, str, str]]:
    return [
        (kind, language, row.name)
        for row in fields.STATE_FIELDS
        for kind in sorted(row.states)
        for language in sorted(row.languages)
        if row.name not in ("Type", "QueryLanguage")
    ]


@pytest.mark.parametrize(("kind", "language", "key"), table_rows())
def test_every_field_of_the_table_is_allowed_by_validate_and_by_the_engine(
    kind: str, language: str, key: str
) -> None:
    found = definition(kind, language, key)
    pointer = f"/States/S/{key}"
    codes = {d.code for d in validate_definition(found) if d.pointer == pointer}
    assert not codes & {"FIELD_UNKNOWN", "FIELD_QUERY_LANGUAGE"}, codes
    try:
        parse_definition(found)
    except DefinitionError as exc:
        assert "is not valid in" not in exc.message, exc.message
        if key in fields.NOT_RUN:
            assert exc.message == f"States.S.{key} is not supported yet by the local engine"


@pytest.mark.parametrize("kind", STATE_TYPES)
@pytest.mark.parametrize("language", QUERY_LANGUAGES)
def test_a_field_the_table_does_not_give_a_state_is_refused_by_both(
    kind: str, language: str
) -> None:
    allowed = fields.ALLOWED[language][kind]
    every = {row.name for row in fields.STATE_FIELDS}
    for key in sorted(every - allowed - fields.NOT_RUN):
        found = definition(kind, language, key)
        pointer = f"/States/S/{key}"
        codes = {d.code for d in validate_definition(found) if d.pointer == pointer}
        other = fields.ALLOWED[fields.other_language(language)][kind]
        expected = "FIELD_QUERY_LANGUAGE" if key in other else "FIELD_UNKNOWN"
        assert expected in codes, (key, codes)
        with pytest.raises(DefinitionError) as refused:
            parse_definition(found)
        wording = f"not valid in {language} mode" if key in other else f"not valid in a {kind}"
        assert wording in refused.value.message, (key, refused.value.message)


@pytest.mark.parametrize(
    ("kind", "key"),
    sorted((kind, row.name) for row in fields.STATE_FIELDS if not row.runs for kind in row.states),
)
def test_the_engine_refuses_every_field_it_does_not_run_with_its_position(
    kind: str, key: str
) -> None:
    text = json.dumps(definition(kind, JSONPATH, key), indent=2)
    value, source = load_json(text, "machine.asl.json")
    with pytest.raises(DefinitionError) as refused:
        parse_definition(value, source)
    assert refused.value.message == f"States.S.{key} is not supported yet by the local engine"
    position = source.locate(f"/States/S/{key}")
    assert position is not None
    assert (refused.value.line, refused.value.column) == (position.line, position.column)


def test_nested_objects_have_one_table_too() -> None:
    retrier = {"ErrorEquals": ["States.ALL"], "Backoff": 2}
    found = {
        "StartAt": "S",
        "States": {
            "S": {**BASES["Task"], "Retry": [retrier], "End": True},
        },
    }
    assert "FIELD_UNKNOWN" in {d.code for d in validate_definition(found)}
    with pytest.raises(DefinitionError, match="field 'Backoff' is not valid in a Retrier"):
        parse_definition(found)
    branch = dict(BASES["Parallel"])
    branch["Branches"] = [{**BASES["Parallel"]["Branches"][0], "QueryLanguage": "JSONata"}]
    found = {"StartAt": "S", "States": {"S": branch}}
    assert "FIELD_UNKNOWN" in {d.code for d in validate_definition(found)}
    with pytest.raises(DefinitionError, match="field 'QueryLanguage' is not valid here"):
        parse_definition(found)


def test_validate_and_the_engine_give_a_nested_state_the_same_query_language() -> None:
    # AWS: a state without QueryLanguage uses the top-level one, also inside a JSONata Map.
    inner = {"Type": "Pass", "Output": "{% 1 %}", "End": True}
    found = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "QueryLanguage": "JSONata",
                "ItemProcessor": {"StartAt": "I", "States": {"I": inner}},
                "End": True,
            }
        },
    }
    codes = [d.code for d in validate_definition(found)]
    assert codes == ["FIELD_QUERY_LANGUAGE"]
    with pytest.raises(DefinitionError, match="field 'Output' is not valid in JSONPath mode"):
        parse_definition(found)
    inner["QueryLanguage"] = "JSONata"
    assert validate_definition(found) == []
    parse_definition(found)
