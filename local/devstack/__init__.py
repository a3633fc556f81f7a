"""The local stack (``make dev``): the whole system on one machine, and the fakes the tests use."""
