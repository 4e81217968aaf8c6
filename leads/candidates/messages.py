"""Messages to a candidate, through the channel they prefer (core.channels).

Every outbox handler that writes to a candidate calls ``candidate_message_send``; it is
where the rules that hold for every such message live:

- nobody whose consent is withdrawn (``consent_withdrawn_at``) or whose data was erased
  gets anything: SKIPPED;
- the channel follows ``contact_channel`` (email, SMS, LINE; "phone" means email, else
  SMS; LINE needs a LINE user id, else email or SMS), the language ``language`` unless the
  caller knows better (a booking remembers the language it was made in);
- scheduled messages wait outside CANDIDATE_QUIET_HOURS (``Deferred`` until the morning),
  and expire when that would be at or after their ``deadline``; replies to the candidate's
  own action (a booking confirmation) go at once (``quiet_hours=False``).
"""

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_stubs_ext import StrOrPromise

from accounts.models import User
from core.channels import Attachment, Recipient, message_send
from core.models import OutboxMessage
from core.outbox import Deferred, Outcome
from core.quiet_hours import candidate_delivery_time
from leads.candidates.followups import followup_task_create
from leads.models import Candidate


def candidate_recipient(*, candidate: Candidate, language: str | None = None) -> Recipient:
    return Recipient(
        email=candidate.email,
        phone=candidate.phone,
        line_user_id=candidate.line_user_id or None,
        preferred=candidate.contact_channel,
        language=language or candidate.language,
    )


def candidate_message_send(
    *,
    message: OutboxMessage,
    candidate: Candidate,
    template: str,
    context: dict[str, object],
    language: str | None = None,
    quiet_hours: bool = True,
    deadline: datetime | None = None,
    attachments: Callable[[], Sequence[Attachment]] | None = None,
    buttons: Sequence[tuple[object, str]] = (),
) -> Outcome:
    """Send one outbox row's message to ``candidate``; the outcome for the outbox.
    ``buttons`` (label, URL) are shown where the channel has buttons (LINE)."""
    if candidate.consent_withdrawn_at is not None or candidate.erased_at is not None:
        return Outcome.SKIPPED
    now = timezone.now()
    if deadline is not None and now >= deadline:
        return Outcome.EXPIRED
    if quiet_hours:
        at = candidate_delivery_time(due=now, deadline=deadline)
        if at is None:
            return Outcome.EXPIRED
        if at > now:
            raise Deferred(at)
    sent_by = message_send(
        recipient=candidate_recipient(candidate=candidate, language=language),
        template=template,
        context=context,
        outbox_key=message.key,
        attachments=attachments,
        buttons=buttons,
    )
    return Outcome.SKIPPED if sent_by is None else Outcome.SENT


def advisor_follow_up(
    *,
    key: str,
    candidate_id: uuid.UUID,
    advisor: User,
    title: StrOrPromise,
    source: str,
    template: str,
    context: dict[str, object],
) -> None:
    """What an advisor reminder does (CONTRACT section 6): a follow-up task for the advisor,
    due now, titled in the staff's language, once per outbox row (``key``), and the staff
    email ``template`` to them."""
    with translation.override(settings.LANGUAGE_CODE):
        text = str(title)
    followup_task_create(
        candidate_id=candidate_id,
        advisor_id=advisor.pk,
        due_at=timezone.now(),
        title=text,
        source=source,
        key=key,
    )
    staff_message_send(recipients=[advisor.email], template=template, context=context)


def staff_message_send(*, recipients: Sequence[str], template: str, context: dict[str, object]) -> None:
    """Email staff (advisors, managers) the template ``<app>/<name>``
    (``<app>/email/<name>_subject.txt`` and ``_body.txt``), in the staff's language
    (LANGUAGE_CODE) whoever triggered it. Staff messages carry times and admin links, never
    a candidate's name or contacts, and are not subject to the candidates' rules above."""
    app, _sep, name = template.partition("/")
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"{app}/email/{name}_subject.txt", context).strip()
        body = render_to_string(f"{app}/email/{name}_body.txt", context)
    send_mail(subject, body, None, list(recipients))
