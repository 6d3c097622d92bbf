"""API views: validate, call one selector or service, serialize. Errors: ``api.errors``."""
