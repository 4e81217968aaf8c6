"""Shared by the webhook tests: a frozen JST instant, a delivery run to its end, an
endpoint registered on the loopback receiver with its secret handed to the receiver."""

from datetime import datetime
from typing import Any

import time_machine

from leads.models import WebhookEndpoint
from leads.partners.webhook_delivery import webhook_dispatch
from leads.partners.webhooks import webhook_endpoint_create
from tests.partners import PartnerClient
from tests.webhook_receiver import WebhookReceiver

JST = "+09:00"


def at(instant: str, tick: bool = False) -> time_machine.travel:
    return time_machine.travel(datetime.fromisoformat(instant + JST), tick=tick)


def dispatch(threads: int = 4, per_endpoint: int | None = None) -> str:
    return str(
        webhook_dispatch(time_budget=30, threads=threads, per_endpoint=per_endpoint, wait_for_due=False)
    )


def endpoint_for(
    partner: PartnerClient, receiver: WebhookReceiver, path: str = "/hooks", **options: Any
) -> WebhookEndpoint:
    endpoint, secret = webhook_endpoint_create(
        partner_id=partner.partner.pk, url=receiver.url(path), **options
    )
    receiver.secrets.append(secret)
    return endpoint
