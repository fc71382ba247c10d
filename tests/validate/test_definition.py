"""Rules not covered by the corpus: warnings, defaults and odd shapes."""

from __future__ import annotations

import copy
import json
from typing import Any

from tooling.sourcemap import load_json
from tooling.validate import validate_definition

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"


def machine(**states: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


def codes(definition: Any, **kwargs: Any) -> list[str]:
    return [d.code for d in validate_definition(definition, **kwargs)]


def test_not_an_object() -> None:
    assert codes([1, 2]) == ["DEFINITION_NOT_OBJECT"]


def test_default_query_language_applies_when_the_definition_sets_none() -> None:
    definition = machine(P={"Type": "Pass", "Output": {"a": "{% 1 + 1 %}"}, "End": True})
    assert codes(definition) == ["FIELD_QUERY_LANGUAGE"]
    assert codes(definition, query_language="JSONata") == []


def test_parameters_key_that_looks_like_a_path_without_dollar_is_a_warning() -> None:
    definition = machine(
        T={"Type": "Task", "Resource": LAMBDA, "Parameters": {"id": "$.id"}, "End": True}
    )
    [diagnostic] = validate_definition(definition)
    assert (diagnostic.code, diagnostic.severity.value) == (
        "PAYLOAD_PATH_WITHOUT_DOLLAR",
        "WARNING",
    )
    assert diagnostic.pointer == "/States/T/Parameters/id"
    assert '"id.$"' in diagnostic.message


def test_pass_result_with_dollar_keys_is_a_warning() -> None:
    definition = machine(P={"Type": "Pass", "Result": {"x": {"v.$": "$.a"}}, "End": True})
    assert codes(definition) == ["PASS_RESULT_DOLLAR"]


def test_retry_on_errors_the_state_cannot_raise() -> None:
    retry = [
        {"ErrorEquals": ["States.HeartbeatTimeout"]},
        {"ErrorEquals": ["States.NoChoiceMatched", "States.BranchFailed"]},
        {"ErrorEquals": ["Lambda.ServiceException"]},
    ]
    definition = machine(
        T={"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Retry": retry,
           "End": True}
    )  # fmt: skip
    found = validate_definition(definition)
    assert [d.code for d in found] == ["RETRY_UNRAISABLE"] * 4
    assert not any(d.is_error for d in found)
    retry_ok = [{"ErrorEquals": ["States.HeartbeatTimeout", "Lambda.ServiceException"]}]
    ok = machine(
        T={"Type": "Task", "Resource": LAMBDA, "HeartbeatSeconds": 5, "Retry": retry_ok,
           "End": True}
    )  # fmt: skip
    assert codes(ok) == []


def test_reserved_error_name_is_a_warning() -> None:
    definition = machine(
        T={"Type": "Task", "Resource": LAMBDA, "Retry": [{"ErrorEquals": ["States.Timeoutt"]}],
           "End": True}
    )  # fmt: skip
    [diagnostic] = validate_definition(definition)
    assert diagnostic.code == "ERROR_NAME_UNKNOWN"
    assert 'did you mean "States.Timeout"' in diagnostic.message


def test_loop_with_no_way_out_is_a_warning_inside_a_map() -> None:
    # AWS accepts a nested loop with no terminal state (ValidateStateMachineDefinition's
    # MISSING_END_STATE is top-level only); the run would never end, hence the warning.
    loop = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Wait", "Seconds": 1, "Next": "A"},
        },
    }
    definition = machine(M={"Type": "Map", "ItemProcessor": loop, "End": True})
    found = validate_definition(definition)
    assert [(d.code, d.severity.value, d.pointer) for d in found] == [
        ("LOOP_NO_EXIT", "WARNING", "/States/M/ItemProcessor/States/A")
    ]


def test_a_workflow_with_no_terminal_state_is_missing_end_state_alone() -> None:
    # As ValidateStateMachineDefinition answers: MISSING_END_STATE "Workflow has no terminal
    # state", and no unreachable-state (or loop) diagnostic besides it.
    definition = machine(
        A={"Type": "Pass", "Next": "B"},
        B={"Type": "Wait", "Seconds": 1, "Next": "A"},
        Unused={"Type": "Pass", "Next": "A"},
    )
    found = validate_definition(definition)
    assert [(d.code, d.severity.value, d.pointer) for d in found] == [
        ("MISSING_END_STATE", "ERROR", "/States")
    ]
    assert found[0].message.startswith("Workflow has no terminal state")


def test_missing_end_state_comes_with_a_dangling_target() -> None:
    found = validate_definition(machine(A={"Type": "Pass", "Next": "NOPE"}))
    assert sorted(d.code for d in found) == ["MISSING_END_STATE", "STATE_NEXT_MISSING"]


def test_loop_around_a_task_without_a_choice_is_a_warning() -> None:
    definition = machine(
        Call={"Type": "Task", "Resource": LAMBDA, "Next": "Again",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Stop"}]},
        Again={"Type": "Pass", "Next": "Call"},
        Stop={"Type": "Fail"},
    )  # fmt: skip
    assert codes(definition) == ["LOOP_UNBOUNDED"]


def test_the_seed_loop_with_a_choice_exit_is_clean() -> None:
    definition = machine(
        Call={"Type": "Task", "Resource": LAMBDA, "Next": "Check"},
        Check={"Type": "Choice", "Default": "Done",
               "Choices": [{"Variable": "$.n", "NumericLessThan": 5, "Next": "Call"}]},
        Done={"Type": "Succeed"},
    )  # fmt: skip
    assert codes(definition) == []


def test_jsonata_dollar_keys_are_a_warning() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        **machine(P={"Type": "Pass", "Output": {"a.$": "$.x"}, "End": True}),
    }
    assert codes(definition) == ["JSONATA_DOLLAR_KEY"]


def test_next_in_an_inner_scope_cannot_leave_it() -> None:
    definition = machine(
        Par={"Type": "Parallel", "End": True, "Branches": [
            machine(In={"Type": "Pass", "Next": "Par"})]},
    )  # fmt: skip
    [diagnostic] = validate_definition(definition)
    assert diagnostic.code == "STATE_NEXT_MISSING"
    assert "branch 1" in diagnostic.message


def test_cloudformation_resource_and_placeholders_are_left_for_deploy_time() -> None:
    for resource in ({"Fn::GetAtt": ["hello", "Arn"]}, {"Ref": "Fn"}, "${self:custom.arn}"):
        assert codes(machine(T={"Type": "Task", "Resource": resource, "End": True})) == []


def test_diagnostics_are_sorted_by_position() -> None:
    text = json.dumps(
        machine(
            A={"Type": "Pass", "Next": "Nope"},
            B={"Type": "Pass", "Next": "Nada", "End": True},
        ),
        indent=2,
    )
    definition, source = load_json(text, "m.json")
    found = validate_definition(definition, source)
    lines = [d.line or 0 for d in found]
    assert lines == sorted(lines) and len(found) == 3 and 0 not in lines


def test_many_states_are_checked() -> None:
    """A 1,000-state chain with a Choice loop: correct diagnostics on a large machine."""
    size = 1000
    states: dict[str, Any] = {}
    for i in range(size):
        states[f"S{i}"] = {"Type": "Pass", "Next": f"S{i + 1}"}
    states[f"S{size - 1}"] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.again", "BooleanEquals": True, "Next": "S0"}],
        "Default": "End",
    }
    states["End"] = {"Type": "Succeed"}
    definition = machine(**states)
    assert codes(definition) == []
    broken = copy.deepcopy(definition)
    broken["States"]["S500"]["Next"] = "s501"
    broken["States"]["Lost"] = {"Type": "Succeed"}
    found = validate_definition(broken)
    assert [(d.code, d.pointer) for d in found] == [("STATE_NEXT_MISSING", "/States/S500/Next")]
    assert 'did you mean "S501"' in found[0].message
    broken["States"]["S500"]["Next"] = "S501"
    assert [(d.code, d.pointer) for d in validate_definition(broken)] == [
        ("STATE_UNREACHABLE", "/States/Lost")
    ]


def test_payload_that_grows_every_turn_of_a_loop_is_a_warning() -> None:
    branches = [
        machine(B1={"Type": "Pass", "End": True}),
        machine(B2={"Type": "Pass", "End": True}),
    ]
    check = {
        "Type": "Choice",
        "Choices": [{"Variable": "$[0].again", "BooleanEquals": True, "Next": "Fan"}],
        "Default": "Done",
    }
    definition = machine(
        Fan={"Type": "Parallel", "Branches": branches, "Next": "Check"},
        Check=check,
        Done={"Type": "Succeed"},
    )
    found = validate_definition(definition)
    assert [(d.code, d.pointer) for d in found] == [("PAYLOAD_GROWTH", "/States/Fan")]
    definition["States"]["Fan"]["ResultSelector"] = {"first.$": "$[0].again"}
    assert codes(definition) == []
    keep = machine(
        Keep={"Type": "Pass", "Parameters": {"previous.$": "$"}, "ResultPath": "$.history",
              "Next": "Check"},
        Check={**check, "Choices": [{"Variable": "$.again", "BooleanEquals": True,
                                     "Next": "Keep"}]},
        Done={"Type": "Succeed"},
    )  # fmt: skip
    assert codes(keep) == ["PAYLOAD_GROWTH"]


def batched(batcher: Any, mode: str = "DISTRIBUTED", **fields: Any) -> dict[str, Any]:
    processor = {
        "ProcessorConfig": {"Mode": mode},
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": True}},
    }
    return machine(M={"Type": "Map", "ItemProcessor": processor, "ItemBatcher": batcher,
                      "End": True, **fields})  # fmt: skip


def pointed(definition: Any) -> list[tuple[str, str]]:
    return [(d.code, d.pointer) for d in validate_definition(definition)]


def test_item_batcher_in_both_query_languages_is_clean() -> None:
    assert codes(batched({"MaxItemsPerBatch": 10, "BatchInput": {"id.$": "$.id"}})) == []
    assert codes(batched({"MaxItemsPerBatchPath": "$.n", "MaxInputBytesPerBatch": 262144})) == []
    jsonata = batched(
        {"MaxItemsPerBatch": "{% $states.input.n %}", "BatchInput": {"id": "{% 1 %}"}},
        QueryLanguage="JSONata",
    )
    assert codes(jsonata) == []


def test_item_batcher_needs_a_distributed_map() -> None:
    assert pointed(batched({"MaxItemsPerBatch": 10}, mode="INLINE")) == [
        ("FIELD_UNKNOWN", "/States/M/ItemBatcher")
    ]


def test_item_batcher_needs_a_limit() -> None:
    assert pointed(batched({"BatchInput": {}})) == [("FIELD_MISSING", "/States/M/ItemBatcher")]


def test_item_batcher_limit_and_its_path_are_exclusive() -> None:
    assert pointed(batched({"MaxInputBytesPerBatch": 10, "MaxInputBytesPerBatchPath": "$.b"})) == [
        ("FIELDS_EXCLUSIVE", "/States/M/ItemBatcher/MaxInputBytesPerBatchPath")
    ]


def test_item_batcher_limits_are_positive_and_bytes_at_most_256_kib() -> None:
    assert pointed(batched({"MaxItemsPerBatch": 0})) == [
        ("FIELD_VALUE", "/States/M/ItemBatcher/MaxItemsPerBatch")
    ]
    assert pointed(batched({"MaxInputBytesPerBatch": 262145})) == [
        ("FIELD_VALUE", "/States/M/ItemBatcher/MaxInputBytesPerBatch")
    ]
    assert pointed(batched({"MaxItemsPerBatch": "10"})) == [
        ("FIELD_TYPE", "/States/M/ItemBatcher/MaxItemsPerBatch")
    ]


def test_item_batcher_paths_are_jsonpath_reference_paths() -> None:
    assert pointed(batched({"MaxItemsPerBatchPath": "$.n[*]"})) == [
        ("REFERENCE_PATH_INVALID", "/States/M/ItemBatcher/MaxItemsPerBatchPath")
    ]
    assert pointed(batched({"MaxItemsPerBatchPath": "$.n"}, QueryLanguage="JSONata")) == [
        ("FIELD_QUERY_LANGUAGE", "/States/M/ItemBatcher/MaxItemsPerBatchPath")
    ]


def test_wait_for_task_token_without_the_token_is_a_warning() -> None:
    wait = "arn:aws:states:::lambda:invoke.waitForTaskToken"
    task = {"Type": "Task", "Resource": wait, "End": True}
    silent = machine(T={**task, "Parameters": {"FunctionName": "f", "Payload": {"a": 1}}})
    [diagnostic] = validate_definition(silent)
    assert (diagnostic.code, diagnostic.pointer) == ("TASK_TOKEN_MISSING", "/States/T/Resource")
    assert not diagnostic.is_error
    passing = {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}}
    assert codes(machine(T={**task, "Parameters": passing})) == []
    arguments = {"FunctionName": "f", "Payload": "{% $states.context.Task.Token %}"}
    jsonata = {**task, "QueryLanguage": "JSONata", "Arguments": arguments}
    assert codes(machine(T=jsonata)) == []
