"""The package every Lambda function imports (the common layer's ``/opt/python/videogen``),
grouped by concern so that the folder tree is the architecture:

- ``runtime``: settings, observability, the SQS entry, SnapStart hooks, AWS clients;
- ``api``: the resolver every API function uses, the input rule, the contract, wire models;
- ``data``: the engine and sessions, compiled statements, ORM models, repositories (all SQL);
- ``storage``: the videos bucket: object keys, presigned URLs, ranged reads, uploads, deletion;
- ``messaging``: queue messages and the step pipelines' queuing rules;
- ``keys``: envelope encryption of users' provider API keys; ``errors``: domain exceptions;
- ``catalog``, ``providers``, ``generation``, ``films``: the model catalog, the provider adapters,
  the clip pipeline and the film pipeline.

Imports point down that list's dependencies, never up: ``runtime`` imports nothing of ours but
itself; ``data``, ``storage`` and ``messaging`` import ``runtime``; the pipelines import those;
``api`` is imported by API functions only, never by ``data`` or the pipelines' steps.
"""
