"""The HTTP path of the API functions: ``resolver`` (the Powertools resolver every API function
uses: identity, the checks before routing, errors mapped to answers once), ``dispatch`` (a matched
route called without the per-request middleware chain), ``input_rule`` (what a request's text must
be before any of it reaches the database or a client), ``contract`` (error bodies, statuses,
security and links the routes declare), ``job_view`` (a job as a client sees it) and ``schemas``
(the wire models, one module per resource).

May import: ``runtime``, ``data``, ``storage``, ``messaging``, ``catalog``, ``generation``,
``films``, ``errors``. Only API functions import it; nothing below it imports it back.
"""
