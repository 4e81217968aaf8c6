"""The naive baseline: what a first DRF implementation of "save a lead" looks like. No
authentication, no throttling, no normalisation, no deduplication, no outbox."""

from typing import Any

from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny

from bench.models import NaiveLead


class NaiveLeadSerializer(serializers.ModelSerializer[NaiveLead]):
    class Meta:
        model = NaiveLead
        exclude = ("raw_payload",)
        read_only_fields = ("id", "created_at")


class NaiveLeadViewSet(viewsets.ModelViewSet[NaiveLead]):
    queryset = NaiveLead._default_manager.all()
    serializer_class = NaiveLeadSerializer
    http_method_names = ["post"]
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def perform_create(self, serializer: Any) -> None:
        serializer.save(raw_payload=self.request.data)  # keeps the payload, as Lead does
