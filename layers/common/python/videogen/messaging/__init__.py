"""Queue messages and the rules of the queue-driven step pipelines: ``messages`` (what each
message holds, ids only, and the senders: SQS or in memory), ``pipeline`` (the clock a step
takes, queuing a new row's first step or withdrawing it, queuing the next step).

May import: boto3, pydantic, ``runtime``, ``data`` (a withdrawn row is deleted in its own session).
"""
