"""The providers of functions' `s3` events, the same on both targets: S3 buckets the toolkit
creates and the toolkit's notifications on a bucket, through an AwsClient (the account's on
AWS, the folder's local AWS services locally).

Ownership: a bucket is the toolkit's by its tags (`tool:service`, `tool:stage`); a notification
by its Id, which starts with the toolkit's prefix for its function
(tooling.deploy.models.notification_id_prefix). PutBucketNotificationConfiguration replaces the
whole configuration, so a change reads it, swaps the toolkit's entries for that function and
writes it back with everything else as it was (as Serverless' custom resource for existing
buckets does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tooling.aws.errors import AwsOperationFailed
from tooling.deploy.models import (
    Address,
    Bucket,
    BucketNotification,
    Kind,
    notification_id_prefix,
)
from tooling.deploy.providers import Description, Diff, Found
from tooling.errors import NotFound, OperationFailed, ToolError

if TYPE_CHECKING:
    from tooling.aws.client import AwsClient

Client = Callable[[], "AwsClient"]
_LOCATION_CONSTRAINT_DEFAULT = "us-east-1"  # the one region CreateBucket takes without one


class S3Buckets:
    def __init__(
        self, client: Client, region: str, tags: dict[str, str], may_exist: Callable[[], bool]
    ) -> None:
        self.client = client
        self.region = region
        self.tags = tags
        self.may_exist = may_exist  # False: nothing can be there (no local AWS services yet)

    def check(self, resource: Bucket) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        what = f"read the tags of bucket {address.name}"
        if not self.may_exist():
            return None
        try:
            answer = self.client().call("s3", "get_bucket_tagging", what=what,
                                        Bucket=address.name)  # fmt: skip
        except NotFound:
            return None
        except AwsOperationFailed as exc:
            if exc.code != "NoSuchTagSet":
                raise
            answer = {}
        return {"Tags": {t["Key"]: t["Value"] for t in answer.get("TagSet") or []}}

    def owns(self, address: Address, found: Found) -> bool:
        tags = found.get("Tags") or {}
        return all(tags.get(key) == value for key, value in self.tags.items())

    def diff(self, resource: Bucket, found: Found) -> Diff:
        return Diff()

    def create(self, resource: Bucket) -> None:
        aws, what = self.client(), f"create bucket {resource.name}"
        params: dict[str, Any] = {"Bucket": resource.name}
        if self.region != _LOCATION_CONSTRAINT_DEFAULT:
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        aws.call("s3", "create_bucket", what=what, **params)
        aws.call(
            "s3", "put_bucket_tagging", what=what, Bucket=resource.name,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in self.tags.items()]},
        )  # fmt: skip

    def update(self, resource: Bucket, found: Found, diff: Diff) -> None:
        pass

    def delete(self, address: Address) -> None:
        """S3 deletes only an empty bucket (BucketNotEmpty), as CloudFormation does: the
        objects are the user's."""
        try:
            self.client().call("s3", "delete_bucket", what=f"delete bucket {address.name}",
                               Bucket=address.name)  # fmt: skip
        except NotFound:
            return
        except ToolError as exc:
            if getattr(exc, "code", "") != "BucketNotEmpty":
                raise
            raise OperationFailed(
                f"bucket {address.name} still holds objects: S3 deletes only an empty bucket "
                "(as CloudFormation, which Serverless removes it with, does)",
                hint=f"empty it (`aws s3 rm s3://{address.name} --recursive`, on the local target "
                'after `eval "$(tool local env)"`), then run `tool remove` again',
            ) from None

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(address.arn))


class S3BucketNotifications:
    def __init__(self, client: Client, may_exist: Callable[[], bool]) -> None:
        self.client = client
        self.may_exist = may_exist

    def check(self, resource: BucketNotification) -> None:
        pass

    def _configuration(self, bucket: str) -> dict[str, Any] | None:
        if not self.may_exist():
            return None
        try:
            answer = self.client().call(
                "s3", "get_bucket_notification_configuration",
                what=f"read the notifications of bucket {bucket}", Bucket=bucket,
            )  # fmt: skip
        except NotFound:
            return None
        answer.pop("ResponseMetadata", None)
        return answer

    @staticmethod
    def _function(address: Address) -> str:
        return address.name.rsplit(" -> ", 1)[1]

    def find(self, address: Address) -> Found | None:
        assert address.arn is not None
        configuration = self._configuration(address.arn)
        if configuration is None:
            return None
        prefix = notification_id_prefix(self._function(address))
        ours = [
            entry
            for entry in configuration.get("LambdaFunctionConfigurations") or []
            if str(entry.get("Id", "")).startswith(prefix)
        ]
        return {"LambdaFunctionConfigurations": ours} if ours else None

    def owns(self, address: Address, found: Found) -> bool:
        return True  # only entries with the toolkit's Id prefix are found

    def diff(self, resource: BucketNotification, found: Found) -> Diff:
        have = sorted(_normal(e) for e in found.get("LambdaFunctionConfigurations") or [])
        want = sorted(_normal(e) for e in resource.configurations())
        return Diff() if have == want else Diff.of(("notifications changed",
                                                    ("LambdaFunctionConfigurations",)))  # fmt: skip

    def create(self, resource: BucketNotification) -> None:
        self._write(resource.bucket, resource.function_name, resource.configurations())

    def update(self, resource: BucketNotification, found: Found, diff: Diff) -> None:
        self._write(resource.bucket, resource.function_name, resource.configurations())

    def delete(self, address: Address) -> None:
        assert address.arn is not None
        self._write(address.arn, self._function(address), [], missing_ok=True)

    def _write(
        self, bucket: str, function: str, entries: list[dict[str, Any]], *, missing_ok: bool = False
    ) -> None:
        configuration = self._configuration(bucket)
        if configuration is None:
            if missing_ok:
                return
            raise NotFound(
                f"add the notifications of {function} to bucket {bucket} failed: the bucket "
                "does not exist",
                hint="create it first, or drop `existing: true` to let the toolkit create it",
            )
        prefix = notification_id_prefix(function)
        kept = [
            entry
            for entry in configuration.get("LambdaFunctionConfigurations") or []
            if not str(entry.get("Id", "")).startswith(prefix)
        ]
        if missing_ok and len(kept) == len(configuration.get("LambdaFunctionConfigurations") or []):
            return  # none of ours there: nothing to write
        configuration["LambdaFunctionConfigurations"] = kept + entries
        self.client().call(
            "s3", "put_bucket_notification_configuration",
            what=f"set the notifications of {function} on bucket {bucket}", Bucket=bucket,
            NotificationConfiguration={k: v for k, v in configuration.items() if v},
        )  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        entries = found.get("LambdaFunctionConfigurations") or []
        events = sorted({event for entry in entries for event in entry.get("Events") or []})
        return Description(f"arn:aws:s3:::{address.arn}", ", ".join(events))


def _normal(entry: dict[str, Any]) -> str:
    rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    normal = [
        entry.get("Id"),
        entry.get("LambdaFunctionArn"),
        sorted(entry.get("Events") or []),
        [(str(r.get("Name", "")).lower(), r.get("Value")) for r in rules],
    ]
    return repr(normal)


def bucket_providers(
    client: Client,
    region: str,
    tags: dict[str, str],
    may_exist: Callable[[], bool] = lambda: True,
) -> dict[Kind, Any]:
    return {
        "bucket": S3Buckets(client, region, tags, may_exist),
        "bucket notification": S3BucketNotifications(client, may_exist),
    }
