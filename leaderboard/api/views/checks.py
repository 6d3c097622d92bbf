"""Free model checks through the API: upload a file to check, then follow its report.

The upload goes through the submission's size-capped handler and the web page's service, so a
check is refused exactly where a submission would be; it never uses a submission. Past the
hourly cap the answer is 429 with code ``check_limit``.
"""

from __future__ import annotations

import uuid

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leaderboard import services
from leaderboard.api.errors import ApiError
from leaderboard.api.throttling import UserThrottle
from leaderboard.errors import SubmissionRefused
from leaderboard.models import ModelCheck
from leaderboard.selectors.checks import model_check_get_visible

from .schema import errors
from .submissions import EditionUpload


class ModelCheckCreateSerializer(serializers.Serializer):
    """The file and, for safetensors weights, the architecture (as for a submission)."""

    file = serializers.FileField(
        help_text="ONNX, safetensors (with arch), torch.export .pt2 or TorchScript."
    )
    arch = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="e.g. resnet18"
    )


class ModelCheckSerializer(serializers.ModelSerializer):
    """A check's state and, once done, the evaluator's report (``CheckReport.to_dict``)."""

    challenge = serializers.CharField(source="edition.challenge.slug")
    edition = serializers.CharField(source="edition.slug")
    status = serializers.CharField(
        help_text="queued, running, done (the report says whether it would score) or failed "
        "(the platform could not check it: error_message says why)."
    )
    ok = serializers.SerializerMethodField(
        help_text="Whether a submission of this file would be scored; null until done."
    )
    url = serializers.SerializerMethodField(help_text="The check's page on the site.")

    class Meta:
        model = ModelCheck
        fields = [
            "id",
            "challenge",
            "edition",
            "original_name",
            "arch",
            "status",
            "ok",
            "report",
            "error_message",
            "created_at",
            "finished_at",
            "url",
        ]
        read_only_fields = fields

    def get_ok(self, check: ModelCheck) -> bool | None:
        if check.status != ModelCheck.Status.DONE or not check.report:
            return None
        return bool(check.report.get("ok"))

    def get_url(self, check: ModelCheck) -> str:
        path = reverse("model_check", args=[check.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ModelCheckCreate(EditionUpload):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]
    throttle_classes = [UserThrottle]

    @extend_schema(
        request={"multipart/form-data": ModelCheckCreateSerializer},
        responses={201: ModelCheckSerializer, **errors(400, 401, 403, 404, 413, 415)},
    )
    def post(self, request: Request, slug: str, edition: str) -> Response:
        """Upload a model (multipart, field ``file``) to be checked on the public samples."""
        data = request.data  # streams the upload through the capped handler
        if self.upload_handler.exceeded:
            message = (
                f"The file is larger than this edition's limit of {self.edition.max_upload_mb} MB."
            )
            raise ApiError(
                message,
                code="file_too_large",
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                fields={"file": [message]},
            )
        form = ModelCheckCreateSerializer(data=data)
        form.is_valid(raise_exception=True)
        try:
            check = services.model_check_create(
                edition=self.edition,
                user=request.user,
                upload=form.validated_data["file"],
                arch=form.validated_data["arch"],
            )
        except SubmissionRefused as exc:
            if exc.code != "check_limit":
                raise
            raise ApiError(
                exc.message, code=exc.code, status_code=status.HTTP_429_TOO_MANY_REQUESTS
            ) from exc
        body = ModelCheckSerializer(check, context={"request": request}).data
        location = request.build_absolute_uri(reverse("api:check_detail", args=[check.pk]))
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})


class ModelCheckDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ModelCheckSerializer, **errors(401, 404)})
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        """Status and report; 404 unless the caller ran the check (or is staff)."""
        check = model_check_get_visible(pk=pk, user=request.user)
        return Response(ModelCheckSerializer(check, context={"request": request}).data)
