"""Submitting a model, following it, and the participant's own list.

The upload is parsed by the web form's size-capped handler, installed before anything reads the
request body (authentication included: a session's CSRF check reads the form), so the cap
holds before the whole body arrives. Validation and limits are the web form's service's.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leaderboard import selectors, services
from leaderboard.api.errors import ApiError
from leaderboard.api.serializers import (
    SubmissionCreateSerializer,
    SubmissionDetailSerializer,
    SubmissionSerializer,
)
from leaderboard.api.throttling import ScopedThrottle, UserThrottle
from leaderboard.models import Submission
from leaderboard.uploads import CappedUploadHandler

from .schema import errors


class EditionUpload(APIView):
    """A model upload to one edition, streamed through the edition's size cap.

    The handler is installed before DRF parses the body, so the cap applies while it streams.
    """

    def initial(self, request: Request, *args: object, **kwargs: str) -> None:
        self.edition = selectors.edition_get(
            challenge_slug=kwargs["slug"], edition_slug=kwargs["edition"]
        )
        self.upload_handler = CappedUploadHandler(
            request._request, max_bytes=self.edition.max_upload_bytes
        )
        request._request.upload_handlers = [self.upload_handler]
        super().initial(request, *args, **kwargs)


class SubmissionCreate(EditionUpload):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]
    throttle_classes = [UserThrottle, ScopedThrottle]
    throttle_scope = "submit"

    @extend_schema(
        request={"multipart/form-data": SubmissionCreateSerializer},
        responses={201: SubmissionSerializer, **errors(400, 401, 403, 404, 413, 415)},
    )
    def post(self, request: Request, slug: str, edition: str) -> Response:
        """Upload a model (multipart, field ``file``); it is queued for scoring at once."""
        data = request.data  # streams the upload through the capped handler
        if self.upload_handler.exceeded:
            limit = self.edition.max_upload_mb
            message = f"The file is larger than this edition's limit of {limit} MB."
            raise ApiError(
                message,
                code="file_too_large",
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                fields={"file": [message]},
            )
        form = SubmissionCreateSerializer(data=data)
        form.is_valid(raise_exception=True)
        submission = services.submission_create(
            edition=self.edition,
            user=request.user,
            upload=form.validated_data["file"],
            arch=form.validated_data["arch"],
            method_name=form.validated_data["method_name"],
            description=form.validated_data["description"],
        )
        body = SubmissionSerializer(submission, context={"request": request}).data
        location = request.build_absolute_uri(submission_api_path(submission.pk))
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})


def submission_api_path(pk: uuid.UUID) -> str:
    return reverse("api:submission_detail", args=[pk])


class SubmissionDetail(APIView):
    @extend_schema(responses={200: SubmissionDetailSerializer, **errors(401, 404)})
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        """Status and full result; 404 unless it is the caller's team's (or a baseline)."""
        submission = selectors.submission_get_visible(pk=pk, user=request.user)
        return Response(SubmissionDetailSerializer(submission, context={"request": request}).data)


@extend_schema(responses={200: SubmissionSerializer(many=True), **errors(400, 401, 404)})
class MySubmissions(generics.ListAPIView):
    """The caller's submissions, in every team they belong to, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = SubmissionSerializer

    def get_queryset(self) -> QuerySet[Submission]:
        return selectors.submission_list_for_user(user=self.request.user)
