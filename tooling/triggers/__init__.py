"""SQS triggers: every message starts exactly one execution.

Keep this file free of imports: `start_from_messages` and `lambda_handler` are shipped on their
own inside the trigger Lambda function."""
