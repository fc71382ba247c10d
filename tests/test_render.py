from __future__ import annotations

import json

import pytest

from tooling import render
from tooling.render import readable_cause

LAMBDA_ERROR = json.dumps(
    {
        "errorMessage": "bad value value1",
        "errorType": "ValueError",
        "requestId": "9bb13753-a256-452c-88b9-d7fa31b6b739",
        "stackTrace": [
            '  File "/srv/app/.tool/code/366bade95a6334d0d3a5005d/handler.py", line 5, in'
            ' lambda_handler\n    raise ValueError("bad value")\n'
        ],
    }
)


def test_a_lambda_error_payload_reads_as_its_message_and_the_line_that_raised() -> None:
    assert readable_cause(LAMBDA_ERROR) == "bad value value1 (handler.py:5)"
    on_aws = LAMBDA_ERROR.replace("/srv/app/.tool/code/366bade95a6334d0d3a5005d/", "/var/task/")
    assert readable_cause(on_aws) == "bad value value1 (handler.py:5)"


@pytest.mark.parametrize(
    "cause",
    [
        "An error occurred while executing the state 'X' (entered at the event id #2).",
        '{"no": "errorMessage"}',
        "[1, 2]",
        "",
    ],
)
def test_other_causes_stay_as_they_are(cause: str) -> None:
    assert readable_cause(cause) == cause


def test_a_payload_without_stack_trace_is_its_message() -> None:
    assert readable_cause('{"errorMessage": "boom", "errorType": "E"}') == "boom"


def test_the_outcome_line_points_at_the_whole_cause(capsys: pytest.CaptureFixture[str]) -> None:
    render.execution_outcome(
        {"name": "run-1", "status": "FAILED", "error": "ValueError", "cause": LAMBDA_ERROR}
    )
    assert capsys.readouterr().err == (
        "execution run-1 FAILED: ValueError: bad value value1 (handler.py:5)"
        " (whole cause: `tool history run-1 --json`)\n"
    )
