"""Webhooks to partners in the admin (CONTRACT section 7): a partner's endpoints (the URL
checked by the SSRF guard, the secret shown once, rotation, a test event, replay of the
failed deliveries since a time, enable and disable), and the delivery log with every
attempt (status, duration, error), read only, with "send again" for failed ones."""

import json
import re
import uuid
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.staff import staff_user
from core.admin_mixins import ReadOnlyAdminMixin
from leads.admin.common import ReadOnlyInline, action_form_page
from leads.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEventType
from leads.partners.webhooks import (
    MAX_ENDPOINTS_PER_PARTNER,
    SUBSCRIBABLE,
    WebhookUrlRefused,
    webhook_deliveries_replay,
    webhook_deliveries_retry,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_secret_rotate,
    webhook_test_send,
    webhook_url_resolve,
)

State = WebhookDelivery.State
WEBHOOK_ID = re.compile(r"^msg_([0-9a-f]{32})$")
LIVE = (State.PENDING, State.SENDING)
LATEST = 10  # deliveries shown on an endpoint's page; the log is a link away
LATEST_COLUMNS = (_("created at"), _("type"), "webhook-id", _("state"), "HTTP", _("error"))


class EndpointForm(forms.ModelForm[WebhookEndpoint]):
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https", widget=AdminURLFieldWidget(attrs={"size": 60})
    )
    events = forms.MultipleChoiceField(
        label=_("event types"),
        choices=[(value, WebhookEventType(value).label) for value in SUBSCRIBABLE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every type, including types added later."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("partner", "url", "events", "enabled")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        partner = data.get("partner")
        adding = self.instance._state.adding  # a UUID key is set before the first save
        full = partner is not None and partner.webhook_endpoints.count() >= MAX_ENDPOINTS_PER_PARTNER
        if adding and full:
            raise ValidationError(
                _("A partner may have at most %(limit)d webhook endpoints: delete one first.")
                % {"limit": MAX_ENDPOINTS_PER_PARTNER},
                code="limit",
            )
        return data

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        if self.instance._state.adding or url != self.initial.get("url"):
            try:
                webhook_url_resolve(url)
            except WebhookUrlRefused as exc:
                raise ValidationError(str(exc), code="invalid") from exc
        return url


class ReplayForm(forms.Form):
    since = forms.DateTimeField(
        label=_("failed deliveries created since (Japan time)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    form = EndpointForm
    list_display = ("url", "partner", "enabled", "disabled_reason", "event_types", "failing_since", "log")
    list_filter = ("enabled", "disabled_reason", "partner")
    list_select_related = ("partner",)
    search_fields = ("url", "partner__name", "partner__slug")
    readonly_fields = (
        "id",
        "disabled_reason",
        "disabled_at",
        "failing_since",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
        "log",
        "latest",
    )
    actions = ("send_test_event", "rotate_secret", "replay_failed", "enable", "disable")

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEndpoint]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                failed_count=Count("deliveries", filter=Q(deliveries__state=State.FAILED)),
                live_count=Count("deliveries", filter=Q(deliveries__state__in=LIVE)),
            )
        )

    def get_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> Any:
        if obj is None:  # the secret is made with the endpoint; it starts enabled
            return ("partner", "url", "events")
        return ("id", "partner", "url", "events", "enabled", *self.readonly_fields[1:])

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> Any:
        # An endpoint stays with its partner (its secret and its log are the partner's).
        return (*self.readonly_fields, "partner") if obj is not None else ()

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        # Through the service: it locks the deliveries in the order a delivery run does.
        webhook_endpoint_delete(partner_id=obj.partner_id, endpoint_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            self.delete_model(request, endpoint)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """The confirmation lists the endpoints and counts what goes with them (a page per
        delivery would be thousands of lines). Deliveries and attempts are the endpoint's
        log: whoever may delete the endpoint deletes them with it."""
        objs = list(objs)
        deliveries = WebhookDelivery.objects.filter(endpoint__in=objs)
        counts = {
            WebhookEndpoint._meta.verbose_name_plural: len(objs),
            WebhookDelivery._meta.verbose_name_plural: deliveries.count(),
            WebhookAttempt._meta.verbose_name_plural: WebhookAttempt.objects.filter(
                delivery__in=deliveries
            ).count(),
        }
        return [str(obj) for obj in objs], counts, set(), []

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            created, secret = webhook_endpoint_create(
                partner_id=obj.partner_id, url=data["url"], events=data["events"]
            )
            obj.pk = created.pk
            obj._state.adding = False
            obj.refresh_from_db()
            self._show_secret(request, obj, secret)
            return
        current = WebhookEndpoint.objects.get(pk=obj.pk)
        try:
            webhook_endpoint_update(
                current, url=data["url"], events=data["events"], enabled=data["enabled"], by_staff=True
            )
        except WebhookUrlRefused as exc:  # the name's answer changed since the form's check
            self.message_user(request, str(exc), messages.ERROR)
        obj.refresh_from_db()

    def _show_secret(self, request: HttpRequest, endpoint: WebhookEndpoint, secret: str) -> None:
        self.message_user(
            request,
            format_html(
                str(_("Signing secret of {}: <code>{}</code> — copy it now, it will not be shown again.")),
                endpoint.url,
                secret,
            ),
            level=messages.WARNING,
        )

    @admin.display(description=_("event types"))
    def event_types(self, endpoint: WebhookEndpoint) -> str:
        if not endpoint.events:
            return str(_("all"))
        return ", ".join(str(WebhookEventType(value).label) for value in endpoint.events)

    @admin.display(description=_("deliveries"))
    def log(self, endpoint: WebhookEndpoint) -> str:
        url = reverse("admin:leads_webhookdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
        # Counted by get_queryset, which the list and the change page both read from.
        failed, live = endpoint.failed_count, endpoint.live_count  # type: ignore[attr-defined]
        return format_html(
            '<a href="{}">{}</a>',
            url,
            _("%(live)d to send, %(failed)d failed") % {"live": live, "failed": failed},
        )

    @admin.display(description=_("latest deliveries"))
    def latest(self, endpoint: WebhookEndpoint) -> str:
        deliveries = endpoint.deliveries.select_related("event").order_by("-created_at", "-id")[:LATEST]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    date_format(timezone.localtime(d.created_at), "Y-m-d H:i:s"),
                    d.event.get_type_display(),
                    d.event.webhook_id,
                    d.get_state_display(),
                    d.last_status or "—",
                    d.last_error or "",
                )
                for d in deliveries
            ),
        )
        if not rows:
            return str(_("None yet."))
        head = format_html_join(
            "",
            "<th>{}</th>",
            ((label,) for label in LATEST_COLUMNS),
        )
        return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, rows)

    @admin.action(description=_("Send a test event"), permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            if not endpoint.enabled:
                self.message_user(
                    request,
                    _("%(url)s is disabled: enable it first.") % {"url": endpoint.url},
                    messages.ERROR,
                )
                continue
            event = webhook_test_send(endpoint)
            self.message_user(
                request,
                _("Test event %(id)s queued for %(url)s: its delivery shows in the log in a few seconds.")
                % {"id": event.webhook_id, "url": endpoint.url},
            )

    @admin.action(
        description=_("Rotate the signing secret (the old one keeps signing for 24 hours)"),
        permissions=["change"],
    )
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            self._show_secret(request, endpoint, webhook_secret_rotate(endpoint))

    @admin.action(description=_("Send the failed deliveries since a time again"), permissions=["change"])
    def replay_failed(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
    ) -> TemplateResponse | None:
        endpoints = list(queryset)
        form = ReplayForm(
            request.POST if "since" in request.POST else None,
            initial={"since": timezone.localtime() - timedelta(days=1)},
        )
        if not form.is_valid():
            return action_form_page(
                self,
                request,
                action="replay_failed",
                selected=list(endpoints),
                form=form,
                title=_("Send failed deliveries again"),
                summary=", ".join(endpoint.url for endpoint in endpoints),
                submit=_("Send again with their original webhook-id"),
            )
        for endpoint in endpoints:
            try:
                count = webhook_deliveries_replay(endpoint, since=form.cleaned_data["since"])
            except WebhookUrlRefused as exc:
                self.message_user(request, f"{endpoint.url}: {exc}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(url)s: %(count)d failed deliveries will be sent again.")
                % {"url": endpoint.url, "count": count},
            )
        return None

    @admin.action(description=_("Enable (a fresh start: failures counted from now)"), permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_endpoint_update(endpoint, enabled=True, by_staff=True)
        self.message_user(request, _("Enabled %(count)d endpoint(s).") % {"count": len(queryset)})

    @admin.action(
        description=_("Disable (pending deliveries fail; replay sends them later)"), permissions=["change"]
    )
    def disable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_endpoint_update(endpoint, enabled=False, by_staff=True)
        self.message_user(request, _("Disabled %(count)d endpoint(s).") % {"count": len(queryset)})


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("attempted_at", "status", "duration_ms", "error")
    readonly_fields = fields

    @admin.display(description=_("at"))
    def attempted_at(self, attempt: WebhookAttempt) -> str:
        return date_format(timezone.localtime(attempt.at), "Y-m-d H:i:s")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[WebhookDelivery]):
    # What matters first (the rest scrolls on a narrow screen); the partner is a filter, the
    # error a click away.
    list_display = (
        "created_at", "state", "event_type", "attempts", "last_status", "next_attempt", "endpoint_url",
        "webhook_id",
    )  # fmt: skip
    list_filter = ("state", "event__type", "endpoint__partner", "endpoint")
    list_select_related = ("endpoint__partner", "event")
    search_fields = ("endpoint__url",)
    search_help_text = _("A webhook-id (msg_…) or part of an endpoint's URL.")
    date_hierarchy = "created_at"
    fields = (
        "webhook_id", "event_type", "partner", "endpoint", "state", "created_at", "next_attempt",
        "attempts", "last_status", "last_error", "delivered_at", "body",
    )  # fmt: skip
    readonly_fields = fields
    inlines = (AttemptInline,)
    actions = ("send_again",)

    def has_send_again_permission(self, request: HttpRequest) -> bool:
        return staff_user(request).has_perm("leads.change_webhookendpoint")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[WebhookDelivery], search_term: str
    ) -> tuple[QuerySet[WebhookDelivery], bool]:
        match = WEBHOOK_ID.match(search_term.strip())
        if match:
            return queryset.filter(event_id=uuid.UUID(match[1])), False
        return super().get_search_results(request, queryset, search_term)

    @admin.action(
        description=_("Send the selected failed deliveries again (same webhook-id)"),
        permissions=["send_again"],
    )
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        chosen = list(queryset.values_list("pk", flat=True))
        count = webhook_deliveries_retry(chosen)
        level = messages.SUCCESS if count == len(chosen) else messages.WARNING
        self.message_user(
            request,
            _(
                "%(count)d of %(chosen)d deliveries will be sent again (only failed ones of enabled "
                "endpoints are)."
            )
            % {"count": count, "chosen": len(chosen)},
            level,
        )

    @admin.display(description=_("partner"), ordering="endpoint__partner__name")
    def partner(self, delivery: WebhookDelivery) -> str:
        return delivery.endpoint.partner.name

    @admin.display(description=_("endpoint"), ordering="endpoint__url")
    def endpoint_url(self, delivery: WebhookDelivery) -> str:
        return delivery.endpoint.url

    @admin.display(description=_("type"), ordering="event__type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.get_type_display()

    @admin.display(description="webhook-id")
    def webhook_id(self, delivery: WebhookDelivery) -> str:
        return delivery.event.webhook_id

    @admin.display(description=_("next attempt"), ordering="due_at")
    def next_attempt(self, delivery: WebhookDelivery) -> Any:
        return delivery.due_at if delivery.state in LIVE else "—"

    @admin.display(description=_("body (as signed)"))
    def body(self, delivery: WebhookDelivery) -> str:
        pretty = json.dumps(json.loads(delivery.event.body), ensure_ascii=False, indent=2)
        return format_html("<pre>{}</pre>", pretty)
