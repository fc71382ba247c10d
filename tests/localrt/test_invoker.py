"""The local LambdaInvoker: which deployed function a Task's name or ARN stands for."""

from __future__ import annotations

import pytest

from tooling.engine.errors import StatesError
from tooling.localrt.invoker import LocalLambdaInvoker
from tooling.localrt.lambda_runner import FunctionSpec, LocalLambdaRunner


def _invoker(region: str = "eu-west-1") -> tuple[LocalLambdaInvoker, list[str]]:
    asked: list[str] = []

    def lookup(arn: str) -> FunctionSpec | None:
        asked.append(arn)
        return None

    return LocalLambdaInvoker(lookup, LocalLambdaRunner(), region, "000000000000"), asked


@pytest.mark.parametrize(
    ("identifier", "arn"),
    [
        ("svc-dev-f", "arn:aws:lambda:eu-west-1:000000000000:function:svc-dev-f"),
        (
            "123456789012:function:svc-dev-f",
            "arn:aws:lambda:eu-west-1:000000000000:function:svc-dev-f",
        ),
        (
            "arn:aws:lambda:us-east-1:123456789012:function:svc-dev-f:$LATEST",
            "arn:aws:lambda:us-east-1:000000000000:function:svc-dev-f",
        ),
    ],
)
def test_a_name_means_the_function_in_the_executions_region(identifier: str, arn: str):
    invoker, _ = _invoker()
    assert invoker.arn_for(identifier) == arn


def test_a_missing_function_is_looked_up_by_arn_and_named_in_the_error():
    invoker, asked = _invoker()
    with pytest.raises(StatesError) as raised:
        invoker.invoke("svc-dev-f", "{}")
    assert asked == ["arn:aws:lambda:eu-west-1:000000000000:function:svc-dev-f"]
    assert raised.value.error == "Lambda.ResourceNotFoundException"
    assert "Function not found: arn:aws:lambda:eu-west-1:000000000000:function:svc-dev-f" in (
        raised.value.cause or ""
    )
