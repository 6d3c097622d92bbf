"""Single sign-on with a university's OpenID Connect provider: allauth's provider settings built
from four values (settings/base.py reads them from the environment). Off unless configured: no
provider URL, no provider, no button on the login page, nothing in the database.

https://docs.allauth.org/en/latest/socialaccount/providers/openid_connect.html
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


def oidc_providers(
    *, url: str, client_id: str, secret: str, name: str, provider_id: str = "university"
) -> dict:
    """``SOCIALACCOUNT_PROVIDERS`` for one OpenID Connect app; empty when ``url`` is empty.

    ``url`` is the issuer: allauth reads its ``/.well-known/openid-configuration`` when someone
    starts a login, never before. The provider's redirect URI for this site is
    ``<site>/accounts/oidc/<provider_id>/login/callback/``.
    """
    url = url.strip()
    if not url:
        return {}
    missing = [
        key
        for key, value in (("OIDC_CLIENT_ID", client_id), ("OIDC_CLIENT_SECRET", secret))
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(
            f"OIDC_PROVIDER_URL is set but {' and '.join(missing)} "
            f"{'are' if len(missing) > 1 else 'is'} not: single sign-on needs "
            "the client registered with the provider."
        )
    if not url.startswith(("https://", "http://")):
        raise ImproperlyConfigured(f"OIDC_PROVIDER_URL {url!r} is not an http(s) URL.")
    app = {
        "provider_id": provider_id,
        "name": name or "University login",
        "client_id": client_id,
        "secret": secret,
        "settings": {"server_url": url},
    }
    return {"openid_connect": {"APPS": [app], "OAUTH_PKCE_ENABLED": True}}
