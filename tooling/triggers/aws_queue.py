"""A trigger's queue on AWS (for `tool send/worker/queue --target aws`), through `AwsClient`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tooling.aws.client import AwsClient
from tooling.aws.errors import AwsAccessDenied
from tooling.config.triggers import SqsTrigger
from tooling.errors import NotFound, OperationFailed, ToolError
from tooling.localrt.queue import DeadLetter, QueueDepth
from tooling.triggers.lambda_handler import LOG_MARKER

SQS_BATCH = 10  # SendMessageBatch / DeleteMessageBatch / ReceiveMessage: at most 10 entries
PEEK_VISIBILITY = 0  # looking at dead letters must not hide them from a redrive


@dataclass
class AwsTriggerQueue:
    trigger: SqsTrigger
    aws: AwsClient
    function_name: str  # the trigger function, whose log lines carry the rejection reasons
    _urls: dict[str, str] = field(default_factory=dict, repr=False)

    # -- addressing ---------------------------------------------------------------------------

    def _url(self, arn: str) -> str:
        if arn not in self._urls:
            _, _, _, _, account, name = arn.split(":", 5)
            answer = self.aws.call(
                "sqs",
                "get_queue_url",
                what=f"find queue {name}",
                QueueName=name,
                QueueOwnerAWSAccountId=account,
            )
            self._urls[arn] = str(answer["QueueUrl"])
        return self._urls[arn]

    @property
    def url(self) -> str:
        return self._url(self.trigger.queue_arn)

    def dead_letter_queue_arn(self) -> str | None:
        if self.trigger.dead_letter_queue_arn:
            return self.trigger.dead_letter_queue_arn
        answer = self.aws.call(
            "sqs", "get_queue_attributes", what=f"read the redrive policy of "
            f"{self.trigger.queue_name}", QueueUrl=self.url, AttributeNames=["RedrivePolicy"],
        )  # fmt: skip
        policy = answer.get("Attributes", {}).get("RedrivePolicy")
        return str(json.loads(policy)["deadLetterTargetArn"]) if policy else None

    # -- messages -----------------------------------------------------------------------------

    def send(self, bodies: list[str]) -> list[str]:
        ids: list[str] = []
        for start in range(0, len(bodies), SQS_BATCH):
            chunk = bodies[start : start + SQS_BATCH]
            answer = self.aws.call(
                "sqs",
                "send_message_batch",
                what=f"send messages to {self.trigger.queue_name}",
                QueueUrl=self.url,
                Entries=[{"Id": str(n), "MessageBody": body} for n, body in enumerate(chunk)],
            )
            failed = answer.get("Failed") or []
            if failed:
                first = failed[0]
                raise OperationFailed(
                    f"SQS refused {len(failed)} of {len(chunk)} messages "
                    f"({first.get('Code')}: {first.get('Message')}); {len(ids)} were sent",
                    hint="send the rest again",
                )
            by_entry = {int(item["Id"]): str(item["MessageId"]) for item in answer["Successful"]}
            ids.extend(by_entry[n] for n in range(len(chunk)))
        return ids

    def receive(self, max_messages: int, wait_seconds: int = 0) -> list[dict[str, Any]]:
        answer = self.aws.call(
            "sqs",
            "receive_message",
            what=f"receive from {self.trigger.queue_name}",
            QueueUrl=self.url,
            MaxNumberOfMessages=min(max_messages, SQS_BATCH),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
        )
        return list(answer.get("Messages") or [])

    def delete(self, receipt_handles: list[str]) -> None:
        for start in range(0, len(receipt_handles), SQS_BATCH):
            chunk = receipt_handles[start : start + SQS_BATCH]
            # A stale handle fails its entry: the message comes back and its next start is a
            # no-op, so failures here are not errors.
            self.aws.call(
                "sqs",
                "delete_message_batch",
                what=f"delete messages from {self.trigger.queue_name}",
                QueueUrl=self.url,
                Entries=[{"Id": str(n), "ReceiptHandle": h} for n, h in enumerate(chunk)],
            )

    def fail(self, receipt_handle: str, reason: str, *, retry_now: bool) -> None:
        # SQS cannot annotate a message; the worker prints the reason, the trigger function
        # logs it (LOG_MARKER lines), and `dead_letters` reads it back from there.
        if retry_now:
            self.aws.call(
                "sqs",
                "change_message_visibility",
                what=f"release a message of {self.trigger.queue_name}",
                QueueUrl=self.url,
                ReceiptHandle=receipt_handle,
                VisibilityTimeout=0,
            )

    # -- looking and redriving ----------------------------------------------------------------

    def depth(self) -> QueueDepth:
        answer = self.aws.call(
            "sqs",
            "get_queue_attributes",
            what=f"read the depth of {self.trigger.queue_name}",
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
        attributes = answer.get("Attributes", {})
        return QueueDepth(
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        )

    def dead_letters(self) -> list[DeadLetter]:
        """Up to 10 dead letters (one peek; SQS samples), with the reasons the trigger logged."""
        arn = self.dead_letter_queue_arn()
        if arn is None:
            return []
        answer = self.aws.call(
            "sqs",
            "receive_message",
            what="look at the dead-letter queue",
            QueueUrl=self._url(arn),
            MaxNumberOfMessages=SQS_BATCH,
            VisibilityTimeout=PEEK_VISIBILITY,
            AttributeNames=["ApproximateReceiveCount"],
        )
        messages = answer.get("Messages") or []
        reasons = self.logged_reasons() if messages else {}
        return [
            DeadLetter(
                message_id=str(m["MessageId"]),
                body=str(m.get("Body", "")),
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 0)),
                reason=reasons.get(
                    str(m["MessageId"]),
                    f"no reason logged (see /aws/lambda/{self.function_name})",
                ),
                source_queue=self.trigger.queue_name,
                dead_lettered_at=None,
            )
            for m in messages
        ]

    def logged_reasons(self) -> dict[str, str]:
        """messageId -> the latest reason the trigger function logged for it."""
        reasons: dict[str, str] = {}
        try:
            for page in self.aws.pages(
                "logs",
                "filter_log_events",
                what=f"read the logs of {self.function_name}",
                logGroupName=f"/aws/lambda/{self.function_name}",
                filterPattern=f'"{LOG_MARKER}"',
            ):
                for event in page.get("events", []):
                    text = str(event.get("message", ""))
                    _, _, record = text.partition(LOG_MARKER + " ")
                    try:
                        item = json.loads(record)
                    except ValueError:
                        continue
                    if "reason" in item:
                        reasons[str(item["messageId"])] = str(item["reason"])
        except NotFound:  # no log group: the function never logged anything
            return {}
        return reasons

    def redrive(self) -> int:
        """StartMessageMoveTask from the dead-letter queue back to this queue; how many
        messages it is moving (SQS moves them asynchronously)."""
        arn = self.dead_letter_queue_arn()
        if arn is None:
            return 0
        answer = self.aws.call(
            "sqs",
            "get_queue_attributes",
            what="count the dead letters",
            QueueUrl=self._url(arn),
            AttributeNames=["ApproximateNumberOfMessages"],
        )
        waiting = int(answer.get("Attributes", {}).get("ApproximateNumberOfMessages", 0))
        if not waiting:
            return 0
        try:
            self.aws.call(
                "sqs",
                "start_message_move_task",
                what="move the dead letters back",
                SourceArn=arn,
                DestinationArn=self.trigger.queue_arn,
            )
        except AwsAccessDenied:
            raise
        except ToolError:  # an endpoint without move tasks (moto, older emulators)
            return self._move_by_hand(arn)
        return waiting

    def _move_by_hand(self, dead_letter_arn: str) -> int:
        """Receive each dead letter, send its body to the queue, delete it. Unlike a move task,
        this gives the message a new message id (so, once started, a new execution name)."""
        moved = 0
        source = self._url(dead_letter_arn)
        while True:
            answer = self.aws.call(
                "sqs", "receive_message", what="take dead letters", QueueUrl=source,
                MaxNumberOfMessages=SQS_BATCH, VisibilityTimeout=60,
            )  # fmt: skip
            messages = answer.get("Messages") or []
            if not messages:
                return moved
            self.send([str(m.get("Body", "")) for m in messages])
            self.aws.call(
                "sqs", "delete_message_batch", what="delete moved dead letters", QueueUrl=source,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                         for n, m in enumerate(messages)],
            )  # fmt: skip
            moved += len(messages)
