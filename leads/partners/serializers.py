"""What a partner reads of its leads and funnel: no personal data."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.serializers import QuerySerializer
from leads.models import Candidate


class LeadStatusSerializer(serializers.Serializer[Any]):
    """What a partner sees of a lead: no personal data."""

    id = serializers.UUIDField()
    external_id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=Candidate.PartnerStatus.choices)
    status_changed_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class PartnerStatsQuerySerializer(QuerySerializer):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # `from` is a Python keyword, so the fields cannot be class attributes.
        return {
            "from": serializers.DateField(required=False, input_formats=["%Y-%m-%d"]),
            "to": serializers.DateField(required=False, input_formats=["%Y-%m-%d"]),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError(
                {"from": [serializers.ErrorDetail(str(_("`from` is after `to`.")), code="invalid")]}
            )
        return attrs


class PartnerStatsCountsSerializer(serializers.Serializer[Any]):
    leads = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())


class PartnerStatsSerializer(serializers.Serializer[Any]):
    # `from` and `to` are declared in get_fields (Python keywords).
    leads = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    credited = PartnerStatsCountsSerializer()
    conversion = serializers.DictField(child=serializers.FloatField(allow_null=True))

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField(allow_null=True)
        fields["to"] = serializers.DateField(allow_null=True)
        return fields
