"""The syntax tree: a tolerant read of any definition, with pointers, types and languages."""

from __future__ import annotations

from typing import Any

from tooling.asl import ScopeKind, parse
from tooling.config.yaml_loader import load_yaml
from tooling.errors import DefinitionError
from tooling.sourcemap import load_json


def machine(**states: Any) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


def test_states_come_in_document_order_with_their_pointers_and_scopes() -> None:
    tree = parse(
        machine(
            P={
                "Type": "Parallel",
                "Branches": [machine(A={"Type": "Pass", "End": True})],
                "Next": "M",
            },
            M={
                "Type": "Map",
                "ItemProcessor": machine(B={"Type": "Succeed"}),
                "End": True,
            },
        )
    )
    assert [(s.name, s.pointer) for s in tree.states()] == [
        ("P", "/States/P"),
        ("A", "/States/P/Branches/0/States/A"),
        ("M", "/States/M"),
        ("B", "/States/M/ItemProcessor/States/B"),
    ]
    p, a, m, b = tree.states()
    assert a.scope.kind is ScopeKind.BRANCH and a.scope.label == "branch 1"
    assert a.scope.owner is p and p.branches == (a.scope,)
    assert b.scope.kind is ScopeKind.PROCESSOR and m.processor is b.scope
    assert tree.machine is not None and tree.machine.kind is ScopeKind.MACHINE


def test_anything_malformed_stays_in_the_tree_as_written() -> None:
    tree = parse(
        {
            "StartAt": 5,
            "States": {
                "NotAnObject": [1, 2],
                "NoType": {"Next": "X"},
                "BadType": {"Type": "Tusk"},
                "Parallel": {"Type": "Parallel", "Branches": "nope"},
                "Map": {"Type": "Map", "Iterator": [1]},
            },
        }
    )
    nodes = {s.name: s for s in tree.states()}
    assert not nodes["NotAnObject"].is_object and nodes["NotAnObject"].fields == {}
    assert nodes["NoType"].type is None and nodes["BadType"].type is None
    assert nodes["Parallel"].branches == ()
    processor = nodes["Map"].processor
    assert processor is not None and processor.label == "Iterator"
    assert not processor.is_object and processor.states == ()
    assert tree.machine is not None and tree.machine.start_at == 5
    assert parse([1]).machine is None and parse([1]).states() == ()


def test_a_state_without_query_language_uses_the_top_level_one_also_when_nested() -> None:
    # AWS: "Set explicitly; could be set and inherited from top-level" (Transforming data with
    # JSONata); the enclosing Map's own QueryLanguage is not inherited.
    tree = parse(
        machine(
            M={
                "Type": "Map",
                "QueryLanguage": "JSONata",
                "ItemProcessor": machine(
                    Inner={"Type": "Pass", "End": True},
                    Own={"Type": "Pass", "QueryLanguage": "JSONata", "End": True},
                ),
                "End": True,
            }
        )
    )
    languages = {s.name: s.language for s in tree.states()}
    assert languages == {"M": "JSONata", "Inner": "JSONPath", "Own": "JSONata"}
    jsonata = parse({**machine(A={"Type": "Pass", "End": True}), "QueryLanguage": "JSONata"})
    assert [s.language for s in jsonata.states()] == ["JSONata"]
    assert parse(machine(A={"Type": "Pass", "End": True}), query_language="JSONata").jsonata


def test_an_invalid_query_language_falls_back_to_the_machine_s() -> None:
    tree = parse(machine(A={"Type": "Pass", "QueryLanguage": "jsonata", "End": True}))
    assert tree.states()[0].language == "JSONPath"


def test_transitions_name_their_field_and_pointer() -> None:
    tree = parse(
        machine(
            C={
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "T"}, {"Next": 3}],
                "Default": "T",
            },
            T={
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}],
                "End": True,
            },
        )
    )
    choice, task = tree.states()
    assert [(t.target, t.pointer, t.via) for t in choice.transitions()] == [
        ("T", "/States/C/Default", "Default"),
        ("T", "/States/C/Choices/0/Next", "Next"),
    ]
    assert [(t.target, t.via) for t in task.transitions()] == [("C", "Catch")]
    assert task.is_terminal and not choice.is_terminal


def test_positions_come_from_the_json_or_yaml_source_map() -> None:
    text = '{"StartAt": "A",\n "States": {"A": {"Type": "Succeed"}}}'
    value, source = load_json(text, "m.json")
    tree = parse(value, source)
    assert tree.error_kwargs("/States/A") == {"file": "m.json", "line": 2, "column": 18}
    yaml_text = "StartAt: A\nStates:\n  A:\n    Type: Succeed\n"
    value, source = load_yaml(yaml_text, "m.yml", DefinitionError)
    located = parse(value, source).locate("/States/A/Type")
    assert located is not None and located.line == 4
    assert parse(value, None, file="x.json").error_kwargs("/States") == {"file": "x.json"}
