"""Moving data through a state: InputPath, ResultPath, OutputPath, typed path reads, and the
JSONata bindings ($states and the variables)."""

from __future__ import annotations

from typing import Any

from tooling.engine import jsontext
from tooling.engine.errors import RESULT_PATH_MATCH_FAILURE, StateRuntimeError
from tooling.engine.jsonpath import JsonPath, PathNotFound, UndefinedVariable, describe

# 256 KiB: the most a state's input or output may hold (Step Functions service quotas).
MAX_PAYLOAD_BYTES = 262144


def read_path(path: JsonPath, data: Any, env: Any) -> Any:
    try:
        return path.read(data, env)
    except UndefinedVariable:
        # Wording not confirmed against AWS (AWS rejects most such definitions up front).
        raise StateRuntimeError(
            f"Invalid path '{path.text}' : The variable '${path.variable}' is not defined"
        ) from None
    except PathNotFound:
        raise StateRuntimeError(
            f"Invalid path '{path.text}' : No results for path: {path.normalized}"
        ) from None


def select(path: JsonPath | None, data: Any, env: Any) -> Any:
    """InputPath / OutputPath: null gives {}, "$" the value itself."""
    if path is None:
        return {}
    if path.is_root:
        return data
    return read_path(path, data, env)


def place(path: JsonPath | None, data: Any, result: Any) -> Any:
    """ResultPath: null keeps the input, "$" is the result, else the result goes into the input."""
    if path is None:
        return data
    if path.is_root:
        return result
    try:
        return path.set(data, result)
    except PathNotFound:
        raise StateRuntimeError(
            f"Unable to apply ResultPath '{path.text}' to input '{jsontext.dumps(data)}'",
            error=RESULT_PATH_MATCH_FAILURE,
        ) from None


def integer_value(value: Any) -> int | None:
    """An integer as Step Functions reads one from data: 3, 3.0 or "3"; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def shown(value: Any) -> str:
    return describe(value)


def too_large(text: str) -> bool:
    return len(text) > MAX_PAYLOAD_BYTES // 4 and len(text.encode()) > MAX_PAYLOAD_BYTES


def bindings(states: dict[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
    """JSONata bindings: $states plus every variable (a JSON null must be bound as JSONata's
    null, since jsonata-python reads a bound None as "undefined")."""
    from tooling.engine.jsonata_eval import jsonata_null

    null = jsonata_null()
    out = {name: null if value is None else value for name, value in variables.items()}
    out["states"] = {k: null if v is None else v for k, v in states.items()}
    return out
