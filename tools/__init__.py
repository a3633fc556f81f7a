"""Development tooling that is not the local stack.

``functions`` imports a function's handler module by path (for the local runtime too),
``harness`` runs the functions in-process for the tests and the benchmarks, ``events`` builds
API Gateway events (for the local stack's gateway and the samples), ``samples`` writes
events/, ``openapi`` writes docs/openapi.json.
"""
