"""The REST API under /api/: the same selectors and services as the pages, JSON in and out.

Views only validate, call one selector or service, and serialize. Every error is JSON with a
stable ``code`` and a ``message`` a person can act on (see ``errors``).
"""
