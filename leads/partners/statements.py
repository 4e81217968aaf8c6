"""A partner's payout statements (CONTRACT section 8): `GET /api/v1/partner/statements/`
and `GET /api/v1/partner/statements/{number}/` (`?format=csv`: UTF-8 with a BOM and CRLF,
as Excel opens it). Only its own; lines name the lead by `id` and `external_id`, never a
person."""

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.pagination import CreatedCursorPagination
from leads.models import PartnerStatement, PayoutLine
from leads.partners.apis import PartnerApi
from leads.payouts.exports import statement_csv, statement_csv_filename
from leads.payouts.selectors import statement_for_partner, statement_line_rows, statements_for_partner


class StatementSerializer(serializers.Serializer[Any]):
    number = serializers.CharField()
    month = serializers.SerializerMethodField()
    subtotal_jpy = serializers.IntegerField()
    tax_rate_percent = serializers.IntegerField()
    tax_jpy = serializers.IntegerField()
    total_jpy = serializers.IntegerField()
    line_count = serializers.IntegerField()
    issued_at = serializers.DateTimeField()
    paid_on = serializers.DateField(allow_null=True)

    def get_month(self, statement: PartnerStatement) -> str:
        return f"{statement.month:%Y-%m}"


class StatementLineSerializer(serializers.Serializer[Any]):
    """A line as leads.payouts.selectors.statement_line_rows gives it (documentation)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PayoutLine.Kind.choices)
    event = serializers.CharField()
    lead_id = serializers.UUIDField()
    external_id = serializers.CharField(allow_null=True)
    date = serializers.DateField()
    amount_jpy = serializers.IntegerField()
    adjusts = serializers.IntegerField(allow_null=True, help_text="The id of the line this one adjusts.")
    reason = serializers.CharField()


class StatementDetailSerializer(StatementSerializer):
    lines = StatementLineSerializer(many=True)


class CsvRenderer(BaseRenderer):
    """Lets `?format=csv` through content negotiation; the view builds the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return JSONRenderer().render(data)


class StatementPagination(CreatedCursorPagination):
    ordering = ("-month", "-pk")  # one statement per partner and month


class StatementListApi(PartnerApi):
    pagination_class = StatementPagination

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no partner
            return PartnerStatement.objects.none()
        return statements_for_partner(partner=self.partner)

    @extend_schema(operation_id="partner_statements_list", responses={200: StatementSerializer(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(StatementSerializer(page, many=True).data)


class StatementDetailApi(PartnerApi):
    renderer_classes = (JSONRenderer, CsvRenderer)

    @extend_schema(
        operation_id="partner_statements_retrieve",
        parameters=[
            OpenApiParameter("format", str, enum=["json", "csv"], description="`csv`: for Excel (BOM, CRLF).")
        ],
        responses={200: StatementDetailSerializer},
    )
    def get(self, request: Request, number: str) -> Response | HttpResponse:
        statement = statement_for_partner(partner=self.partner, number=number)
        if statement is None:  # another partner's statement is as unknown as a missing one
            raise exceptions.NotFound()
        lines = statement_line_rows(statement=statement)
        if request.accepted_renderer.format == "csv":
            response = HttpResponse(
                statement_csv(statement=statement, lines=lines), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="{statement_csv_filename(statement)}"'
            return response
        # The lines are plain rows already (StatementLineSerializer documents them).
        return Response({**StatementSerializer(statement).data, "lines": lines})

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Errors are JSON (the contract's format) even when the CSV was asked for.
        renderer = getattr(request, "accepted_renderer", None)
        if isinstance(response, Response) and renderer is not None and renderer.format == "csv":
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)
