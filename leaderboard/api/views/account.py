"""Who the token belongs to (the CLI checks a token with it at login), and unknown API paths."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leaderboard.api.authentication import token_expires_at
from leaderboard.api.serializers import MeSerializer

from .schema import errors


class Me(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MeSerializer, **errors(401)})
    def get(self, request: Request) -> Response:
        """The authenticated user, and when the token used expires (null: never, or a session)."""
        token = request.auth if hasattr(request.auth, "created") else None
        expires = token_expires_at(token=token) if token is not None else None
        data = {"username": request.user.get_username(), "token_expires_at": expires}
        return Response(MeSerializer(data).data)


@extend_schema(exclude=True)
class EndpointNotFound(APIView):
    """Any other path under /api/: a JSON 404 rather than the site's HTML page."""

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        raise NotFound(
            f"No API endpoint at {request.path}; the endpoints are listed at /api/docs/."
        )
