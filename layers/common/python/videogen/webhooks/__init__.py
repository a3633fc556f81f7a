"""Push completion: the callback URL each create gives a provider, and checking what comes back.

- :mod:`.callbacks`: which providers push (``SOURCES``), the callback URL of a job and its
  token (an HMAC of the source and job id under the server's webhook secret), and the token's
  check, the first thing an arriving webhook meets;
- :mod:`.published_keys`: a provider's published signing keys (JWKS), fetched and cached with a
  bounded lifetime, fetched again for a key id (or a signature) they do not know;
- :mod:`.verify`: each provider's signature as it documents it (Gemini API: an RS256 JWT;
  fal: Ed25519 over the request id, user id, timestamp and the body's SHA-256), timestamps
  within five minutes, algorithms pinned.

A verified webhook never changes a job: ``functions/webhooks`` queues a ``push`` step, and the
worker asks the provider with the user's key, as a poll does (``videogen.generation.poll``).
May import ``videogen.runtime`` and ``videogen.errors`` only: the webhook function holds no
database, no provider SDK and no user key.
"""
