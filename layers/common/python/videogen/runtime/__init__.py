"""What every function runs on, whatever it serves: ``config`` (settings from the environment),
``observability`` (Powertools logger, tracer, metrics and the one entry wrapper), ``sqs_entry``
(the SQS-triggered functions' batch handler), ``snapstart`` (the SnapStart hooks) and ``aws``
(boto3 clients and secrets).

May import: the standard library, Powertools, boto3, pydantic-settings; of ours, only itself.
"""
