"""GET /api/fleet/: the staff fleet page's data as JSON (staff only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leaderboard.api.views.schema import errors

from .selectors import fleet_overview


class DurationsSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="How many runs the median is over.")
    median_s = serializers.FloatField(allow_null=True, help_text="Seconds; null when n is 0.")


class WorkerSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Celery node name, e.g. gpu1@host.")
    host = serializers.CharField()
    queues = serializers.ListField(child=serializers.CharField())
    device = serializers.CharField(help_text="GPU name, or the CPU's model.")
    memory_total_mb = serializers.IntegerField(allow_null=True)
    memory_used_mb = serializers.IntegerField(allow_null=True)
    started_at = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    seconds_since_seen = serializers.FloatField()
    state = serializers.ChoiceField(choices=["busy", "idle", "silent", "stopped"])
    task = serializers.CharField(allow_blank=True)
    submission_id = serializers.UUIDField(allow_null=True)
    shard_index = serializers.IntegerField(allow_null=True)
    busy_seconds = serializers.FloatField(allow_null=True)


class QueueSerializer(serializers.Serializer):
    name = serializers.CharField()
    depth = serializers.IntegerField(allow_null=True, help_text="Messages waiting (Redis LLEN).")


class FleetSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    window_seconds = serializers.FloatField()
    workers = WorkerSerializer(many=True, help_text="Workers heard from in the last 10 minutes.")
    queues = QueueSerializer(many=True)
    unacked = serializers.IntegerField(allow_null=True, help_text="Taken, not yet acknowledged.")
    queue_error = serializers.CharField(allow_blank=True)
    submissions_queued = serializers.IntegerField()
    submissions_running = serializers.IntegerField()
    wait = DurationsSerializer(help_text="Created to started, over the window.")
    scoring = DurationsSerializer(help_text="Started to finished, over the window.")
    shard_wait = DurationsSerializer()
    shard_scoring = DurationsSerializer()


class Fleet(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: FleetSerializer, **errors(401, 403)})
    def get(self, request: Request) -> Response:
        """Workers seen recently, queue depths, and median wait and scoring times (staff)."""
        return Response(FleetSerializer(fleet_overview()).data)
