"""Functions' description, architecture, tracing, layers, vpc, ephemeralStorageSize and tags,
read as Serverless v3 reads them (tooling/config/function_settings.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tooling.config.function_settings import FunctionSettings, Vpc
from tooling.config.missing import MISSING
from tooling.config.service import ServiceConfig, load_service
from tooling.errors import ConfigError

LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:deps:3"


def service(tmp_path: Path, provider: str = "", functions: str = "") -> ServiceConfig:
    (tmp_path / "handler.py").write_text("def work(event, context):\n    return 1\n")
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
        + provider
        + "functions:\n  a:\n    handler: handler.work\n"
        + functions
        + "  b:\n    handler: handler.work\n"
    )
    return load_service(tmp_path, env={})


def test_nothing_set_is_lambdas_defaults(tmp_path: Path) -> None:
    svc = service(tmp_path)
    assert svc.functions["a"].settings == FunctionSettings()


def test_the_provider_gives_what_the_function_does_not(tmp_path: Path) -> None:
    provider = (
        "  architecture: arm64\n  tracing: {lambda: true}\n  layers: [" + LAYER + "]\n"
        "  vpc: {securityGroupIds: [sg-1], subnetIds: [subnet-1, subnet-2]}\n"
        "  tags: {team: data, on: true}\n"
    )
    functions = (
        "    architecture: x86_64\n    tracing: PassThrough\n    layers: []\n    vpc: false\n"
        "    description: the first\n    ephemeralStorageSize: 1024\n    tags: {team: web}\n"
    )
    svc = service(tmp_path, provider, functions)
    assert svc.functions["b"].settings == FunctionSettings(
        architecture="arm64",
        tracing="Active",
        layers=(LAYER,),
        vpc=Vpc(("subnet-1", "subnet-2"), ("sg-1",)),
        tags=(("on", "true"), ("team", "data")),
    )
    assert svc.functions["a"].settings == FunctionSettings(
        description="the first",
        architecture="x86_64",
        tracing="PassThrough",
        ephemeral_storage=1024,
        tags=(("on", "true"), ("team", "web")),
    )


def test_a_vpc_without_both_lists_is_dropped_as_serverless_drops_it(tmp_path: Path) -> None:
    svc = service(tmp_path, "  vpc: {securityGroupIds: [sg-1]}\n")
    assert svc.functions["a"].settings.vpc is None


def test_what_is_not_deployed_of_provider_tracing_and_vpc_is_said(tmp_path: Path) -> None:
    provider = (
        "  tracing: {lambda: true, apiGateway: true}\n"
        "  vpc: {securityGroupIds: [sg-1], subnetIds: [s-1], ipv6AllowedForDualStack: true}\n"
    )
    warnings = service(tmp_path, provider).warnings
    assert any("provider.tracing.apiGateway is not deployed" in w for w in warnings)
    assert any("provider.vpc.ipv6AllowedForDualStack is not deployed" in w for w in warnings)
    assert not any("functions.a.tracing" in w or "provider.tracing is not" in w for w in warnings)


@pytest.mark.parametrize(
    ("provider", "functions", "line", "message"),
    [
        ("", "    layers: [my-layer]\n", 8, "layer 'my-layer' is not a layer version ARN"),
        ("  architecture: arm\n", "", 5, "architecture 'arm' is not one Lambda runs"),
        ("", "    tracing: On\n", 8, "tracing 'On' is not a Lambda tracing mode"),
        ("", "    ephemeralStorageSize: 100\n", 8, "ephemeralStorageSize must be 512-10240"),
        ("", "    description: [a]\n", 8, "description must be text"),
        ("", "    tags: {aws:x: y}\n", 8, "tag 'aws:x' is not one AWS takes"),
        ("  vpc: {securityGroupIds: [sg], subnetIds: x}\n", "", 5, "vpc.subnetIds must be a list"),
    ],
)
def test_what_lambda_refuses_is_refused_at_its_line(
    tmp_path: Path, provider: str, functions: str, line: int, message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        service(tmp_path, provider, functions)
    assert refused.value.line == line and message in refused.value.message


MACHINE = (
    "stepFunctions:\n  stateMachines:\n    m:\n{extra}      definition:\n"
    "        StartAt: P\n        States:\n          P: {{Type: Pass, End: true}}\n"
)


def test_a_machine_takes_the_provider_tags_unless_told_not_to(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n  tags: {team: data, env: dev}\n"
        + MACHINE.format(extra="      tags: {env: prod}\n      tracingConfig: {enabled: true}\n")
    )
    machine = load_service(tmp_path, env={}).state_machines["m"]
    assert machine.tags == (("env", "prod"), ("team", "data")) and machine.tracing
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n  tags: {team: data}\n"
        + MACHINE.format(extra="      inheritGlobalTags: false\n")
    )
    machine = load_service(tmp_path, env={}).state_machines["m"]
    assert machine.tags == () and not machine.tracing


def test_a_tracing_config_without_a_boolean_is_refused_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n"
        + MACHINE.format(extra="      tracingConfig: {enabled: yes please}\n")
    )
    with pytest.raises(ConfigError) as refused:
        load_service(tmp_path, env={})
    assert refused.value.line == 7 and "tracingConfig must be a mapping" in refused.value.message


def test_layers_written_as_intrinsics_resolve_and_the_services_own_stay_references(
    tmp_path: Path,
) -> None:
    (tmp_path / "handler.py").write_text("def work(event, context):\n    return 1\n")
    (tmp_path / "layer").mkdir()
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n  region: eu-west-1\n"
        "layers:\n  deps:\n    path: layer\n"
        "functions:\n  a:\n    handler: handler.work\n    layers:\n"
        "      - !Sub arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:layer:wrangler:1\n"
        "      - {Ref: DepsLambdaLayer}\n"
        "      - 'arn:aws:lambda:#{AWS::Region}:#{AWS::AccountId}:layer:tools:2'\n"
    )
    svc = load_service(tmp_path, env={})
    account = svc.account_id
    assert svc.functions["a"].settings.layers == (
        f"arn:aws:lambda:eu-west-1:{account}:layer:wrangler:1",
        "own-layer:DepsLambdaLayer",  # the deploy puts its version's ARN in its place
        f"arn:aws:lambda:eu-west-1:{account}:layer:tools:2",
    )
    assert not any("DepsLambdaLayer" in w for w in svc.warnings)


class LayerVersions:
    """The reader's seam for a layer's versions; `needed` is whether the target runs layers."""

    def __init__(self, versions: dict[str, str], needed: bool = True) -> None:
        self.versions = versions
        self.layers_needed = needed
        self.asked: list[str] = []

    def resolve(self, kind: str, address: str, params: tuple[str, ...]) -> object:
        assert kind == "layer"
        self.asked.append(address)
        return self.versions.get(address, MISSING)

    def missing_reason(self, kind: str, address: str) -> str:
        return f"layer {address} has no version"


LATEST_SERVICE = (
    "service: s\n{plugins}provider:\n  name: aws\n  runtime: python3.12\n  region: eu-west-1\n"
    "  layers:\n"
    "    - arn:aws:lambda:${{self:provider.region}}:#{{AWS::AccountId}}:layer:deps:latest\n"
    "functions:\n  a:\n    handler: handler.work\n"
    "    layers:\n      - arn:aws:lambda:eu-west-1:111122223333:layer:tools:LATEST\n"
    "  b:\n    handler: handler.work\n"
)


def write_latest(tmp_path: Path, plugins: str) -> None:
    (tmp_path / "handler.py").write_text("def work(event, context):\n    return 1\n")
    (tmp_path / "serverless.yml").write_text(LATEST_SERVICE.format(plugins=plugins))


def test_a_latest_layer_is_its_highest_version_with_serverless_latest_layer_version(
    tmp_path: Path,
) -> None:
    write_latest(tmp_path, "plugins:\n  - serverless-latest-layer-version\n")
    reader = LayerVersions(
        {
            "arn:aws:lambda:eu-west-1:111122223333:layer:tools": (
                "arn:aws:lambda:eu-west-1:111122223333:layer:tools:7"
            ),
            "arn:aws:lambda:eu-west-1:000000000000:layer:deps": (
                "arn:aws:lambda:eu-west-1:000000000000:layer:deps:12"
            ),
        }
    )
    svc = load_service(tmp_path, env={}, external=reader)
    assert svc.functions["a"].settings.layers == (
        "arn:aws:lambda:eu-west-1:111122223333:layer:tools:7",
    )
    assert svc.functions["b"].settings.layers == (
        "arn:aws:lambda:eu-west-1:000000000000:layer:deps:12",
    )


def test_a_latest_layer_with_no_version_is_refused_once_at_its_line(tmp_path: Path) -> None:
    write_latest(tmp_path, "plugins:\n  - serverless-latest-layer-version\n")
    reader = LayerVersions({})
    svc = load_service(tmp_path, env={}, external=reader)
    lines = [problem.render() for problem in svc.problems]
    assert sorted(lines) == [  # each layer once, at its line, though two functions name deps
        "serverless.yml:14:9: function 'a': layer "
        "'arn:aws:lambda:eu-west-1:111122223333:layer:tools:LATEST': layer "
        "arn:aws:lambda:eu-west-1:111122223333:layer:tools has no version "
        "(write the layer's version number in place of latest)",
        "serverless.yml:9:7: function 'b': layer "
        "'arn:aws:lambda:eu-west-1:000000000000:layer:deps:latest': layer "
        "arn:aws:lambda:eu-west-1:000000000000:layer:deps has no version "
        "(write the layer's version number in place of latest)",
    ]
    assert svc.functions["a"].settings.layers == svc.functions["b"].settings.layers == ()


def test_a_latest_layer_the_local_target_cannot_find_is_left_out_with_a_warning(
    tmp_path: Path,
) -> None:
    write_latest(tmp_path, "plugins:\n  - serverless-latest-layer-version\n")
    svc = load_service(tmp_path, env={}, external=LayerVersions({}, needed=False))
    assert svc.functions["a"].settings.layers == ()
    assert any(
        w.startswith("serverless.yml:14:9: function 'a': layer 'arn:aws:lambda:eu-west-1:"
                     "111122223333:layer:tools:LATEST': layer ") and "left out" in w
        for w in svc.warnings
    )  # fmt: skip


def test_without_the_plugin_a_latest_layer_is_refused_saying_what_to_write(
    tmp_path: Path,
) -> None:
    write_latest(tmp_path, "")
    reader = LayerVersions({})
    with pytest.raises(ConfigError) as refused:
        load_service(tmp_path, env={}, external=reader)
    assert refused.value.line == 12  # two lines fewer: no `plugins:`
    assert "is not a layer version ARN" in refused.value.message
    assert "name serverless-latest-layer-version in `plugins:`" in str(refused.value.hint)
    assert reader.asked == []


# -- reservedConcurrency, maximumRetryAttempts, maximumEventAge, destinations -----------------

QUEUE = "arn:aws:sqs:us-east-1:123456789012:failed"


def test_asynchronous_settings_and_destinations_as_serverless_reads_them(
    tmp_path: Path,
) -> None:
    functions = (
        "    reservedConcurrency: 0\n    maximumRetryAttempts: 0\n    maximumEventAge: 60\n"
        f"    destinations:\n      onSuccess: b\n      onFailure: {QUEUE}\n"
    )
    settings = service(tmp_path, functions=functions).functions["a"].settings
    assert (settings.reserved_concurrency, settings.maximum_retry_attempts) == (0, 0)
    b_arn = "arn:aws:lambda:us-east-1:000000000000:function:s-dev-b"
    assert settings.event_invoke_config() == {
        "DestinationConfig": {
            "OnSuccess": {"Destination": b_arn},
            "OnFailure": {"Destination": QUEUE},
        },
        "MaximumEventAgeInSeconds": 60,
        "MaximumRetryAttempts": 0,
    }
    assert [d.type for d in settings.destinations] == ["function", "sqs"]
    svc = service(tmp_path)
    assert svc.functions["a"].settings.event_invoke_config() is None
    assert not any("reservedConcurrency" in w for w in svc.warnings)


def test_provisioned_concurrency_and_snap_start_are_read_with_their_alias(tmp_path: Path) -> None:
    """Serverless v3 functions.js: a `provisioned` alias for provisionedConcurrency, a
    `snapstart` alias for snapStart (0 provisions nothing: `functionObject.provisionedConcurrency
    ||`)."""
    svc = service(tmp_path, functions="    provisionedConcurrency: 2\n")
    assert not [w for w in svc.warnings if "provisionedConcurrency" in w]
    settings = svc.functions["a"].settings
    assert (settings.provisioned_concurrency, settings.target_alias) == (2, "provisioned")
    assert svc.functions["b"].settings.target_alias is None
    svc = service(tmp_path, functions="    snapStart: true\n")
    assert svc.functions["a"].settings.target_alias == "snapstart"
    assert not [w for w in svc.warnings if "snapStart" in w]
    svc = service(tmp_path, functions="    provisionedConcurrency: 0\n    snapStart: false\n")
    assert svc.functions["a"].settings.target_alias is None


@pytest.mark.parametrize(
    ("functions", "line", "message"),
    [
        ("    reservedConcurrency: -1\n", 8, "reservedConcurrency must be a whole number of at"),
        ("    maximumRetryAttempts: 3\n", 8, "maximumRetryAttempts must be a whole number from 0"),
        ("    maximumEventAge: 59\n", 8, "maximumEventAge must be a whole number from 60 to"),
        ("    destinations: {onError: x}\n", 8, "mapping of onSuccess and onFailure"),
        ("    destinations: {onFailure: nothere}\n", 8, "'nothere' is not a function of this"),
        ("    destinations:\n      onFailure: arn:aws:s3:::bucket\n", 9, "is not a function,"),
        ("    destinations: {onFailure: {arn: x, type: s3}}\n", 8, "`arn` with `type`"),
        ("    provisionedConcurrency: -1\n", 8, "provisionedConcurrency must be a whole number"),
        ("    snapStart: yes please\n", 8, "snapStart must be true or false"),
        (
            "    provisionedConcurrency: 1\n    snapStart: true\n",
            9,
            "functions with enabled SnapStart does not support provisioned concurrency",
        ),
    ],
)
def test_what_serverless_or_lambda_refuse_of_them_is_refused_at_its_line(
    tmp_path: Path, functions: str, line: int, message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        service(tmp_path, functions=functions)
    assert refused.value.line == line and message in refused.value.message, refused.value


def test_a_function_s_log_retention_wins_over_the_provider_s(tmp_path: Path) -> None:
    """Serverless v3 merge-iam-templates.js: the function's logRetentionInDays, else the
    provider's, on the function's log group."""
    from tooling.deploy.desired import desired_resources
    from tooling.deploy.models import LogGroup
    from tooling.deploy.providers import Platform

    svc = service(tmp_path, "  logRetentionInDays: 30\n", "    logRetentionInDays: 7\n")
    assert not [w for w in svc.warnings if "logRetentionInDays" in w]
    resources = desired_resources(svc, Platform()).resources
    groups = {r.name: r.retention_days for r in resources if isinstance(r, LogGroup)}
    assert groups == {"/aws/lambda/s-dev-a": 7, "/aws/lambda/s-dev-b": 30}


def test_a_log_retention_cloudwatch_does_not_keep_is_refused_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        service(tmp_path, functions="    logRetentionInDays: 8\n")
    assert caught.value.line == 8 and "one of 1, 3, 5" in (caught.value.hint or "")


def test_provider_logs_are_said_per_key_once(tmp_path: Path) -> None:
    svc = service(
        tmp_path,
        "  logs:\n    restApi: true\n    httpApi: false\n    frameworkLambda: true\n",
    )
    said = [w for w in svc.warnings if "provider.logs" in w]
    assert len(said) == 2, said
    assert "serverless.yml:6:14: provider.logs.restApi (the REST API's access" in said[1]
    assert "provider.logs.frameworkLambda has no effect" in said[0]


def test_use_exact_version_names_each_function_by_its_version(tmp_path: Path) -> None:
    """The plugin's convertToFunctionVersion: every Ref and Fn::GetAtt of one of the service's
    functions in the definition, and nothing else (an ARN written out stays)."""
    (tmp_path / "handler.py").write_text("def work(event, context):\n    return 1\n")
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
        "functions:\n  a:\n    handler: handler.work\n  b:\n    handler: handler.work\n"
        "stepFunctions:\n  stateMachines:\n    m:\n      useExactVersion: true\n"
        "      definition:\n        StartAt: A\n        States:\n"
        "          A: {Type: Task, Resource: !GetAtt a.Arn, Next: B}\n"
        "          B: {Type: Task, Resource: arn:aws:states:::lambda:invoke,\n"
        "              Parameters: {FunctionName: !Ref BLambdaFunction}, Next: C}\n"
        "          C: {Type: Task, End: true,\n"
        "              Resource: arn:aws:lambda:us-east-1:1:function:other}\n"
    )
    machine = load_service(tmp_path, env={}).state_machines["m"]
    states = machine.definition["States"]
    prefix = f"arn:aws:lambda:us-east-1:{machine.arn.split(':')[4]}:function:s-dev-"
    assert states["A"]["Resource"] == prefix + "a:toolExactVersion"
    assert states["B"]["Parameters"]["FunctionName"] == prefix + "b:toolExactVersion"
    assert states["C"]["Resource"] == "arn:aws:lambda:us-east-1:1:function:other"
    assert machine.exact_versions == ("a", "b")
    text = (tmp_path / "serverless.yml").read_text()
    text = text.replace(
        "  b:\n    handler: handler.work\n",
        "  b:\n    handler: handler.work\n    versionFunction: false\n",
    )
    (tmp_path / "serverless.yml").write_text(text)
    machine = load_service(tmp_path, env={}).state_machines["m"]
    assert machine.definition["States"]["B"]["Parameters"]["FunctionName"] == prefix + "b"
    assert machine.exact_versions == ("a",)


def test_kms_key_arn_is_the_function_s_else_the_provider_s_and_the_role_may_decrypt(
    tmp_path: Path,
) -> None:
    """Serverless v3 functions.js: KmsKeyArn, and kms:Decrypt on its role for a key written as
    text."""
    from tooling.iam import function_role

    mine = "arn:aws:kms:us-east-1:123456789012:key/mine"
    theirs = "arn:aws:kms:us-east-1:123456789012:key/provider"
    svc = service(tmp_path, f"  kmsKeyArn: {theirs}\n", f"    kmsKeyArn: {mine}\n")
    assert not [w for w in svc.warnings if "kmsKeyArn" in w]
    assert svc.functions["a"].settings.kms_key_arn == mine
    assert svc.functions["b"].settings.kms_key_arn == theirs
    (policy,) = function_role(svc).inline_policies.values()
    decrypts = [s["Resource"] for s in policy["Statement"] if s["Action"] == ["kms:Decrypt"]]
    assert decrypts == [[mine], [theirs]]


def test_a_kms_key_arn_that_is_no_arn_is_refused_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        service(tmp_path, functions="    kmsKeyArn: my-key\n")
    assert caught.value.line == 8
