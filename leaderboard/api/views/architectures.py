"""The architecture names a safetensors submission can give (``arch``): public, read-only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leaderboard.evaluation.architectures import architecture_list

from .schema import errors


class ArchitectureSerializer(serializers.Serializer):
    name = serializers.CharField(help_text='The value of arch, e.g. "resnet18", "timm/resnet18".')
    family = serializers.CharField(
        help_text="torchvision (torchvision.models.<name>(weights=None, num_classes=N), first "
        "convolution rebuilt for the channels), timm (timm.create_model(<name without timm/>, "
        "pretrained=False, num_classes=N, in_chans=C)) or baselines (the site's baselines)."
    )


class ArchitectureListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = ArchitectureSerializer(many=True)


class ArchitectureList(APIView):
    @extend_schema(responses={200: ArchitectureListSerializer, **errors()})
    def get(self, request: Request) -> Response:
        """Every architecture a safetensors file can name, sorted by name, with its family.

        The weights must load strictly into the network built as the family says, for the
        challenge's channels and classes."""
        found = architecture_list()
        return Response(ArchitectureListSerializer({"count": len(found), "results": found}).data)
