"""Load a service folder's serverless.yml into typed, frozen config objects.

Defaults follow Serverless v3/v4 (notes section 1.1-1.3): stage `dev`, region `us-east-1`,
memorySize 1024, timeout 6, deployed function name `<service>-<stage>-<key>`. Unknown keys under a
state machine are an error (serverless-step-functions validates with allowUnknown: false); unknown
keys elsewhere are warnings.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.config.iam_statements import STATEMENT_EXAMPLE, statement_problem
from tooling.config.intrinsics import (
    FunctionTarget,
    IntrinsicContext,
    partition_for,
    resolve_intrinsics,
)
from tooling.config.triggers import SqsTrigger, parse_sqs_triggers
from tooling.config.variables import VariableResolver
from tooling.config.yaml_loader import load_yaml_file
from tooling.errors import BadInput, ConfigError, DefinitionError
from tooling.names import (
    NameProblem,
    function_key_problem,
    region_problem,
    service_name_problem,
    stage_problem,
    state_machine_key_problem,
)
from tooling.sourcemap import Position, SourceMap, pointer_join

# The toolkit runs Python handlers; Serverless itself has no default runtime (assumption).
DEFAULT_RUNTIME = "python3.12"
DEFAULT_MEMORY_SIZE = 1024
DEFAULT_TIMEOUT = 6
STATE_MACHINE_TYPES = ("STANDARD", "EXPRESS")

TOP_LEVEL_KEYS = frozenset(
    {
        "service", "frameworkVersion", "org", "app", "plugins", "provider", "custom",
        "functions", "stepFunctions", "resources", "package", "layers", "outputs", "params",
        "stages", "useDotenv", "configValidationMode", "variablesResolutionMode",
        "deprecationNotificationMode", "disabledDeprecations",
        "unresolvedVariablesNotificationMode",
        "console", "dashboard", "build", "license", "constructs", "lift",
    }
)  # fmt: skip
PROVIDER_KEYS = frozenset(
    {
        "name", "runtime", "stage", "region", "profile", "memorySize", "timeout", "environment",
        "iam", "iamRoleStatements", "iamManagedPolicies", "role", "cfnRole", "deploymentBucket",
        "deploymentPrefix", "deploymentMethod", "tags", "stackTags", "stackName", "stackPolicy",
        "stackParameters", "rollbackConfiguration", "disableRollback", "notificationArns",
        "logRetentionInDays", "logDataProtectionPolicy", "logs", "tracing", "vpc", "architecture",
        "versionFunctions", "apiGateway", "httpApi", "apiName", "endpointType", "websocketsApiName",
        "websocketsApiRouteSelectionExpression", "websocketsDescription", "layers", "kmsKeyArn",
        "lambdaHashingVersion", "eventBridge", "alb", "s3", "ecr", "cloudFront",
        "runtimeManagement", "description", "usagePlan", "resourcePolicy", "environmentFile",
        "ephemeralStorage", "reservedConcurrency", "timeoutInSeconds", "sns", "cors",
    }
)  # fmt: skip
FUNCTION_KEYS = frozenset(
    {
        "handler", "name", "description", "runtime", "memorySize", "timeout", "environment",
        "role", "iam", "layers", "package", "events", "tags", "architecture", "vpc",
        "reservedConcurrency", "provisionedConcurrency", "onError", "destinations", "tracing",
        "kmsKeyArn", "maximumEventAge", "maximumRetryAttempts", "fileSystemConfig", "image",
        "ephemeralStorage", "runtimeManagement", "snapStart", "url", "logRetentionInDays",
        "logDataProtectionPolicy", "logs", "condition", "dependsOn", "disableLogs",
        "versionFunction", "memory",
    }
)  # fmt: skip
PACKAGE_KEYS = frozenset(
    {"patterns", "include", "exclude", "individually", "artifact", "excludeDevDependencies"}
)
STEP_FUNCTIONS_KEYS = frozenset({"stateMachines", "activities", "validate", "noOutput"})
# serverless-step-functions compileStateMachines.schema.js (notes 1.3): nothing else is allowed.
STATE_MACHINE_KEYS = frozenset(
    {
        "definition", "name", "id", "type", "role", "iamRoleStatements", "loggingConfig",
        "tracingConfig", "encryptionConfig", "kmsKeyArns", "events", "dependsOn", "alarms",
        "notifications", "tags", "inheritGlobalTags", "retain", "useExactVersion",
        "configureTaskTimeouts",
    }
)  # fmt: skip

_HANDLER = re.compile(r"^(?P<module>[A-Za-z0-9_./-]+)\.(?P<function>[A-Za-z_][A-Za-z0-9_]*)$")
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # botocore lambda CreateFunction (64 chars)
# botocore stepfunctions `Name` docs: no whitespace, brackets, wildcards, these specials, controls.
_BAD_STATE_MACHINE_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
_ROLE_ARN = re.compile(r"^arn:[\w-]+:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_DEFINITION_POINTER = re.compile(r"^/stepFunctions/stateMachines/[^/]+/definition(?:/|$)")


@dataclass(frozen=True)
class FunctionConfig:
    key: str
    name: str  # deployed name: functions.<key>.name or <service>-<stage>-<key>
    handler: str  # "handler.lambda_handler" (path/module.function)
    handler_file: str  # "handler.py", relative to the service dir
    handler_function: str  # "lambda_handler"
    runtime: str
    memory_size: int
    timeout: int
    environment: dict[str, str]  # provider.environment merged with the function's
    package_patterns: tuple[str, ...]  # the function's own package.patterns
    arn: str  # arn:<partition>:lambda:<region>:<account>:function:<name>


@dataclass(frozen=True)
class StateMachineConfig:
    key: str
    name: str  # stateMachines.<key>.name or <service>-<stage>-<key>
    type: str  # STANDARD | EXPRESS
    definition: Any  # variables and intrinsics resolved
    source: SourceMap | None  # positions of `definition`'s values; "" is the definition itself
    arn: str  # arn:<partition>:states:<region>:<account>:stateMachine:<name>
    sqs_triggers: tuple[SqsTrigger, ...] = ()  # events: - sqs (a toolkit extension)
    logging_config: Any = None  # loggingConfig as written (checked by tooling.deploy)
    role: str | None = None  # `role`: the ARN of a role the user brings (no role is generated)
    iam_role_statements: tuple[dict[str, Any], ...] = ()  # added to the generated role's policy


@dataclass(frozen=True)
class ServiceConfig:
    directory: Path
    config_file: Path
    service: str
    stage: str
    region: str
    account_id: str
    profile: str | None
    provider: dict[str, Any]
    custom: dict[str, Any]
    functions: dict[str, FunctionConfig]
    state_machines: dict[str, StateMachineConfig]
    warnings: tuple[str, ...]  # unknown keys and the like, each with file:line
    package_patterns: tuple[str, ...] = ()  # service-level package.patterns (include/exclude)


def load_service(
    directory: Path,
    *,
    stage: str | None = None,
    region: str | None = None,
    options: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    account_id: str = "000000000000",
    config_file: str = "serverless.yml",
) -> ServiceConfig:
    """Load and validate `<directory>/<config_file>`. `env` defaults to os.environ."""
    return _Loader(directory, stage, region, options, env, account_id, config_file).load()


class _Loader:
    def __init__(
        self,
        directory: Path,
        stage: str | None,
        region: str | None,
        options: Mapping[str, str] | None,
        env: Mapping[str, str] | None,
        account_id: str,
        config_file: str,
    ) -> None:
        self.directory = Path(directory)
        self.config_file = config_file
        self.options: dict[str, Any] = dict(options or {})
        if stage:
            self.options["stage"] = stage
        if region:
            self.options["region"] = region
        self.env = os.environ if env is None else env
        self.account_id = account_id
        self.warnings: list[str] = []

    # -- entry --------------------------------------------------------------------------------

    def load(self) -> ServiceConfig:
        path = self.directory / self.config_file
        if not path.is_file():
            raise ConfigError(
                f"{self.config_file} not found in {self.directory}",
                file=self.config_file,
                hint=f"run the command in the service folder, the one holding {self.config_file}",
            )
        raw, smap = load_yaml_file(path, self.config_file)
        if not isinstance(raw, dict):
            raise ConfigError(
                f"{self.config_file} must be a mapping of keys (service, provider, ...)",
                file=self.config_file,
                line=1,
                column=1,
            )
        self.smap = smap
        self.vars = VariableResolver(
            raw,
            smap,
            service_dir=self.directory,
            options=self.options,
            env=self.env,
            account_id=self.account_id,
            error_type_for=_error_type_for,
        )
        self._check_keys(raw, TOP_LEVEL_KEYS, "", "the top level")

        service = self.vars.resolve("/service")
        if not isinstance(service, str) or not service.strip():
            raise ConfigError(
                "`service` is missing: name the service",
                **self._at("/service" if "service" in raw else ""),
                hint="add e.g. `service: my-service` at the top of serverless.yml",
            )
        provider = self._mapping("/provider", required=True)
        if provider.get("name") != "aws":
            raise ConfigError(
                f"provider.name must be aws (got {provider.get('name')!r})",
                **self._at("/provider/name"),
                hint="set `provider: {name: aws}`",
            )
        self._check_keys(provider, PROVIDER_KEYS, "/provider", "provider")
        stage = self._text(self.vars.stage(), "/provider/stage", "stage")
        region = self._text(self.vars.region(), "/provider/region", "region")
        self._check_names(service, stage, region)
        custom = self._mapping("/custom")
        package = self._mapping("/package")
        self._check_keys(package, PACKAGE_KEYS, "/package", "package")
        service_patterns = self._patterns(package, "/package")

        functions = self._functions(service, stage, region, provider)
        state_machines = self._state_machines(service, stage, region, functions)
        profile = self.options.get("aws-profile") or provider.get("profile")
        return ServiceConfig(
            directory=self.directory,
            config_file=path,
            service=service,
            stage=stage,
            region=region,
            account_id=self.account_id,
            profile=str(profile) if profile else None,
            provider=provider,
            custom=custom,
            functions=functions,
            state_machines=state_machines,
            warnings=tuple(self.warnings),
            package_patterns=service_patterns,
        )

    # -- helpers ------------------------------------------------------------------------------

    def _check_names(self, service: str, stage: str, region: str) -> None:
        """The names every resource name and state file is built from (tooling.names)."""
        for problem, option, pointer in (
            (stage_problem(stage), "stage", "/provider/stage"),
            (region_problem(region), "region", "/provider/region"),
            (service_name_problem(service, stage), None, "/service"),
        ):
            if problem is None:
                continue
            if option is not None and self.options.get(option):
                raise ConfigError(f"--{option}: {problem.message}", hint=problem.hint)
            self._refuse_name(problem, pointer)

    def _refuse_name(self, problem: NameProblem | None, pointer: str) -> None:
        if problem is not None:
            raise ConfigError(problem.message, **self._at(pointer), hint=problem.hint)

    def _at(self, pointer: str) -> dict[str, Any]:
        """file/line/column of the value at `pointer`, following `${file(...)}` values."""
        smap, at = self.vars.origin(pointer)
        return smap.error_kwargs(at)

    def _where(self, pointer: str) -> str:
        kw = self._at(pointer)
        return ":".join(str(p) for p in (kw["file"], kw["line"], kw["column"]) if p is not None)

    def _mapping(self, pointer: str, *, required: bool = False) -> dict[str, Any]:
        value = self.vars.resolve(pointer)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            what = pointer[1:].replace("/", ".")
            raise ConfigError(
                f"{what} must be a mapping" + ("" if value is not None else ", and it is missing"),
                **self._at(pointer),
                hint=f"see the Serverless docs for `{what}`",
            )
        return value

    def _text(self, value: Any, pointer: str, what: str) -> str:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{what} must be a non-empty string", **self._at(pointer))
        return value

    def _check_keys(
        self, mapping: Mapping[str, Any], allowed: Iterable[str], pointer: str, where: str
    ) -> None:
        allowed = sorted(allowed)
        for key in mapping:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            guess = f"; did you mean '{close[0]}'?" if close else ""
            self.warnings.append(
                f"{self._where(pointer_join(pointer, key))}: unknown key '{key}' in {where} "
                f"(ignored{guess})"
            )

    def _patterns(self, package: Mapping[str, Any], pointer: str) -> tuple[str, ...]:
        """package.patterns, with the legacy exclude/include lists mapped onto them."""
        patterns: list[str] = []
        for key, prefix in (("exclude", "!"), ("include", ""), ("patterns", "")):
            items = package.get(key) or []
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ConfigError(
                    f"package.{key} must be a list of glob patterns",
                    **self._at(pointer_join(pointer, key)),
                )
            patterns += [prefix + item for item in items]
        return tuple(patterns)

    def _positive_int(self, value: Any, default: int, pointer: str, what: str) -> int:
        if value is None:
            return default
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(f"{what} must be a positive whole number", **self._at(pointer))
        return value

    # -- functions ----------------------------------------------------------------------------

    def _functions(
        self, service: str, stage: str, region: str, provider: Mapping[str, Any]
    ) -> dict[str, FunctionConfig]:
        functions = self._mapping("/functions")
        provider_env = provider.get("environment") or {}
        if not isinstance(provider_env, dict):
            raise ConfigError(
                "provider.environment must be a mapping", **self._at("/provider/environment")
            )
        partition = partition_for(region)
        result: dict[str, FunctionConfig] = {}
        for key, spec in functions.items():
            pointer = pointer_join("/functions", key)
            self._refuse_name(function_key_problem(str(key)), pointer)
            if not isinstance(spec, dict):
                raise ConfigError(f"function '{key}' must be a mapping", **self._at(pointer))
            self._check_keys(spec, FUNCTION_KEYS, pointer, f"function '{key}'")
            handler = spec.get("handler")
            if handler is None:
                raise ConfigError(
                    f"function '{key}' has no handler",
                    **self._at(pointer),
                    hint="add e.g. `handler: handler.lambda_handler` (file handler.py, "
                    "function lambda_handler)",
                )
            match = _HANDLER.match(handler) if isinstance(handler, str) else None
            if match is None:
                raise ConfigError(
                    f"function '{key}': handler {handler!r} is not `module.function`",
                    **self._at(pointer_join(pointer, "handler")),
                    hint="e.g. `handler.lambda_handler` for lambda_handler in handler.py",
                )
            module = match["module"].removeprefix("./")
            runtime = spec.get("runtime") or provider.get("runtime") or DEFAULT_RUNTIME
            if not str(runtime).startswith("python"):
                self.warnings.append(
                    f"{self._where(pointer)}: function '{key}' uses runtime {runtime}; "
                    "the local runtime runs Python handlers only"
                )
            name = spec.get("name") or f"{service}-{stage}-{key}"
            if not isinstance(name, str) or not _FUNCTION_NAME.fullmatch(name):
                raise ConfigError(
                    f"function '{key}': deployed name {name!r} is not a valid Lambda name",
                    **self._at(pointer_join(pointer, "name") if "name" in spec else pointer),
                    hint="use 1-64 letters, digits, '-' or '_'",
                )
            env = spec.get("environment") or {}
            if not isinstance(env, dict):
                raise ConfigError(
                    f"function '{key}': environment must be a mapping",
                    **self._at(pointer_join(pointer, "environment")),
                )
            package = spec.get("package") or {}
            if not isinstance(package, dict):
                raise ConfigError(
                    f"function '{key}': package must be a mapping",
                    **self._at(pointer_join(pointer, "package")),
                )
            self._check_keys(package, PACKAGE_KEYS, pointer_join(pointer, "package"), "package")
            result[key] = FunctionConfig(
                key=key,
                name=name,
                handler=handler,
                handler_file=module.replace(".", "/") + ".py",
                handler_function=match["function"],
                runtime=str(runtime),
                memory_size=self._positive_int(
                    spec.get("memorySize", provider.get("memorySize")),
                    DEFAULT_MEMORY_SIZE,
                    pointer_join(pointer, "memorySize"),
                    f"function '{key}': memorySize",
                ),
                timeout=self._positive_int(
                    spec.get("timeout", provider.get("timeout")),
                    DEFAULT_TIMEOUT,
                    pointer_join(pointer, "timeout"),
                    f"function '{key}': timeout",
                ),
                environment=self._environment({**provider_env, **env}, pointer),
                package_patterns=self._patterns(package, pointer_join(pointer, "package")),
                arn=f"arn:{partition}:lambda:{region}:{self.account_id}:function:{name}",
            )
        return result

    def _environment(self, merged: Mapping[str, Any], pointer: str) -> dict[str, str]:
        env: dict[str, str] = {}
        for name, value in merged.items():
            if value is None:  # Serverless drops null variables (package/lib/deleteNullEnvVars.js)
                continue
            if isinstance(value, bool):
                env[str(name)] = "true" if value else "false"
            elif isinstance(value, str | int | float):
                env[str(name)] = str(value)
            else:
                self.warnings.append(
                    f"{self._where(pointer)}: environment variable {name} is not a plain value "
                    "(a CloudFormation intrinsic?) and is not set locally"
                )
        return env

    # -- state machines -----------------------------------------------------------------------

    def _state_machines(
        self, service: str, stage: str, region: str, functions: Mapping[str, FunctionConfig]
    ) -> dict[str, StateMachineConfig]:
        step = self._mapping("/stepFunctions")
        if not step:
            return {}
        self._check_keys(step, STEP_FUNCTIONS_KEYS, "/stepFunctions", "stepFunctions")
        machines = self._mapping("/stepFunctions/stateMachines", required=True)
        partition = partition_for(region)
        context = IntrinsicContext(
            functions={k: FunctionTarget(f.name, f.arn) for k, f in functions.items()},
            region=region,
            account_id=self.account_id,
            stack_name=f"{service}-{stage}",
            other_resources=frozenset(self._resource_ids()),
            partition=partition,
        )
        result: dict[str, StateMachineConfig] = {}
        for key, spec in machines.items():
            pointer = pointer_join("/stepFunctions/stateMachines", key)
            self._refuse_name(state_machine_key_problem(str(key)), pointer)
            if not isinstance(spec, dict):
                raise ConfigError(f"state machine '{key}' must be a mapping", **self._at(pointer))
            for unknown in (k for k in spec if k not in STATE_MACHINE_KEYS):
                close = difflib.get_close_matches(str(unknown), sorted(STATE_MACHINE_KEYS), n=1)
                raise ConfigError(
                    f"unknown key '{unknown}' in state machine '{key}'",
                    **self._at(pointer_join(pointer, unknown)),
                    hint=f"did you mean '{close[0]}'?"
                    if close
                    else "serverless-step-functions allows only: "
                    + ", ".join(sorted(STATE_MACHINE_KEYS)),
                )
            name = spec.get("name") or f"{service}-{stage}-{key}"
            if not isinstance(name, str) or len(name) > 80 or _BAD_STATE_MACHINE_NAME.search(name):
                raise ConfigError(
                    f"state machine '{key}': name {name!r} is not a valid state machine name",
                    **self._at(pointer_join(pointer, "name") if "name" in spec else pointer),
                    hint="use 1-80 characters: letters, digits, '-' and '_'",
                )
            sm_type = spec.get("type") or "STANDARD"
            if sm_type not in STATE_MACHINE_TYPES:
                raise ConfigError(
                    f"state machine '{key}': type {sm_type!r} is not STANDARD or EXPRESS",
                    **self._at(pointer_join(pointer, "type")),
                    hint="use `type: STANDARD` (the default) or `type: EXPRESS`",
                )
            definition, source = self._definition(key, spec, pointer)
            definition, warnings = resolve_intrinsics(definition, context, source)
            role, statements = self._machine_iam(key, spec, pointer, context)
            self.warnings.extend(warnings)
            result[key] = StateMachineConfig(
                key=key,
                name=name,
                type=sm_type,
                definition=definition,
                source=source,
                arn=f"arn:{partition}:states:{region}:{self.account_id}:stateMachine:{name}",
                logging_config=spec.get("loggingConfig"),
                role=role,
                iam_role_statements=statements,
                sqs_triggers=parse_sqs_triggers(
                    spec.get("events"),
                    pointer_join(pointer, "events"),
                    machine_key=key,
                    region=region,
                    account_id=self.account_id,
                    partition=partition,
                    at=self._at,
                ),
            )
        self._check_unique_queues(result)
        return result

    def _machine_iam(
        self, key: str, spec: Mapping[str, Any], pointer: str, context: IntrinsicContext
    ) -> tuple[str | None, tuple[dict[str, Any], ...]]:
        """`role` and `iamRoleStatements`, which serverless-step-functions makes exclusive."""
        if spec.get("role") is not None and spec.get("iamRoleStatements") is not None:
            raise ConfigError(
                f"state machine '{key}' has both role and iamRoleStatements",
                **self._at(pointer_join(pointer, "iamRoleStatements")),
                hint="with `role` the toolkit generates no role to add statements to: "
                "give the statements to your role, or drop `role`",
            )
        role = self._machine_role(key, spec, pointer_join(pointer, "role"), context)
        statements = self._machine_statements(
            key, spec.get("iamRoleStatements"), pointer_join(pointer, "iamRoleStatements"), context
        )
        return role, statements

    def _machine_role(
        self, key: str, spec: Mapping[str, Any], pointer: str, context: IntrinsicContext
    ) -> str | None:
        if spec.get("role") is None:
            return None
        role = self._resolved(spec["role"], pointer, context)
        if isinstance(role, str) and _ROLE_ARN.match(role):
            return role
        shown = role if isinstance(role, str) else json.dumps(role)
        name = role if isinstance(role, str) and role and not role.startswith("arn:") else "NAME"
        raise ConfigError(
            f"state machine '{key}': role must be the ARN of an IAM role (got {shown})",
            **self._at(pointer),
            hint=f"e.g. arn:{context.partition}:iam::{self.account_id}:role/{name}",
        )

    def _machine_statements(
        self, key: str, value: Any, pointer: str, context: IntrinsicContext
    ) -> tuple[dict[str, Any], ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise ConfigError(
                f"state machine '{key}': iamRoleStatements must be a list of IAM statements",
                **self._at(pointer),
                hint=STATEMENT_EXAMPLE,
            )
        statements = self._resolved(value, pointer, context)
        for index, statement in enumerate(statements):
            problem = statement_problem(statement)
            if problem is None:
                continue
            at = pointer_join(pointer, index)
            joiner = ": " if problem.key else " "
            raise ConfigError(
                f"state machine '{key}': iamRoleStatements[{index}]{joiner}{problem.message}",
                **self._at(pointer_join(at, problem.key) if problem.key else at),
                hint=problem.hint,
            )
        return tuple(statements)

    def _resolved(self, value: Any, pointer: str, context: IntrinsicContext) -> Any:
        """`value` with its intrinsics resolved; one the toolkit cannot resolve is an error here
        (IAM needs the real ARN, and the toolkit creates nothing from `resources`)."""
        smap, base = self.vars.origin(pointer)
        try:
            resolved, _ = resolve_intrinsics(value, context, _rebase(smap, base))
        except DefinitionError as exc:
            raise ConfigError(
                exc.message, file=exc.file, line=exc.line, column=exc.column, hint=exc.hint
            ) from None
        leftover = _first_intrinsic(resolved, pointer)
        if leftover is not None:
            at, name = leftover
            raise ConfigError(
                f"{name} in {pointer[1:].replace('/', '.')} names a resource the toolkit does "
                "not create",
                **self._at(at),
                hint="write the ARN itself; only the service's functions can be referenced",
            )
        return resolved

    def _check_unique_queues(self, machines: Mapping[str, StateMachineConfig]) -> None:
        seen: dict[str, str] = {}
        for key, machine in machines.items():
            for trigger in machine.sqs_triggers:
                for name in (trigger.queue_name, trigger.dead_letter_queue_name):
                    if name is None:
                        continue
                    if name in seen:
                        raise ConfigError(
                            f"queue {name!r} is used by two sqs triggers (state machines "
                            f"'{seen[name]}' and '{key}')",
                            **self._at(pointer_join("/stepFunctions/stateMachines", key)),
                            hint="each trigger needs a queue of its own",
                        )
                    seen[name] = key

    def _definition(
        self, key: str, spec: Mapping[str, Any], pointer: str
    ) -> tuple[Any, SourceMap | None]:
        at = pointer_join(pointer, "definition")
        definition = spec.get("definition")
        if definition is None:
            raise ConfigError(
                f"state machine '{key}' has no definition",
                **self._at(pointer),
                hint="add `definition: ${file(statemachine.asl.json)}` or an inline definition",
            )
        smap, base = self.vars.origin(at)
        source: SourceMap | None = _rebase(smap, base)
        if isinstance(definition, str):  # a JSON document given as text
            try:
                definition = json.loads(definition)
            except json.JSONDecodeError as exc:
                raise DefinitionError(
                    f"state machine '{key}': the definition text is not valid JSON ({exc.msg})",
                    **self._at(at),
                    hint="fix the JSON or write the definition as YAML",
                ) from None
            source = None
        if not isinstance(definition, dict):
            raise DefinitionError(
                f"state machine '{key}': the definition must be an object",
                **self._at(at),
                hint="it needs StartAt and States",
            )
        return definition, source

    def _resource_ids(self) -> list[str]:
        resources = self.vars.main.value.get("resources")
        if isinstance(resources, dict) and isinstance(resources.get("Resources"), dict):
            return list(resources["Resources"])
        return []


def _first_intrinsic(value: Any, pointer: str) -> tuple[str, str] | None:
    """(pointer, intrinsic) of the first CloudFormation intrinsic left in `value`."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join"):
            return pointer, str(next(iter(value)))
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _first_intrinsic(item, pointer_join(pointer, key))
        if found is not None:
            return found
    return None


def _error_type_for(pointer: str) -> type[BadInput]:
    return DefinitionError if _DEFINITION_POINTER.match(pointer) else ConfigError


def _rebase(smap: SourceMap, base: str) -> SourceMap:
    """The positions under `base`, with `base` becoming the root pointer ""."""
    if not base:
        return smap
    positions: dict[str, Position] = {}
    for pointer, position in smap.positions.items():
        if pointer == base or pointer.startswith(base + "/"):
            positions[pointer[len(base) :]] = position
    return SourceMap(smap.file, positions)
