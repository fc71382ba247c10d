"""tool: a Serverless-style toolkit for AWS Step Functions with an embedded local runtime."""

__version__ = "0.1.0"
