"""Linking a candidate's LINE account (CONTRACT section 6, "LINE").

The candidate asks for it on their booking page ("LINEで受け取る"): ``line_link_code_issue``
gives a one-time code bound to them, valid LINE_LINK_CODE_TTL. They add our official
account and send the code as a message (the page opens LINE with it typed in), or LINE's
account-link flow returns it as the nonce of an ``accountLink`` event: either way
``line_webhook_events_handle`` records the sender's LINE user id on the candidate and makes
LINE their channel. ``unfollow`` (they blocked or removed the account) stops LINE for them:
their messages go by email again. The candidate may switch back themselves
(``line_unlink``). Every webhook event is handled once: LINE redelivers events it is not
sure we received, with the same ``webhookEventId``."""

import hashlib
import logging
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from leads.models import Candidate, ContactChannel, LineLinkCode, LineWebhookEvent, TimelineEvent

logger = logging.getLogger(__name__)

# No 0/O, 1/I/L: the code may be read off one screen and typed on another.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8  # 31**8, about 2**40: not guessable within a code's half hour
CODE_PREFIX = "URK"


@dataclass(frozen=True)
class IssuedCode:
    code: str  # as shown: URK-ABCD-2345
    expires_at: datetime


def _code_hash(code: str) -> str:
    """The canonical form's hash: full-width letters, spaces, hyphens and case do not matter
    (a phone keyboard may type any of them)."""
    canonical = unicodedata.normalize("NFKC", code).upper()
    canonical = "".join(ch for ch in canonical if ch in CODE_ALPHABET)
    canonical = canonical.removeprefix(CODE_PREFIX) if len(canonical) > CODE_LENGTH else canonical
    return hashlib.sha256(canonical.encode()).hexdigest()


def line_link_code_issue(*, candidate_id: uuid.UUID) -> IssuedCode:
    """A new code for the candidate; their earlier unused codes stop working."""
    now = timezone.now()
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = now + settings.LINE_LINK_CODE_TTL
    with transaction.atomic():
        LineLinkCode.objects.filter(candidate_id=candidate_id, used_at__isnull=True).delete()
        LineLinkCode.objects.create(
            candidate_id=candidate_id, code_hash=_code_hash(raw), expires_at=expires_at
        )
    return IssuedCode(code=f"{CODE_PREFIX}-{raw[:4]}-{raw[4:]}", expires_at=expires_at)


def _fallback_channel(candidate: Candidate) -> str:
    return ContactChannel.EMAIL if candidate.email else ContactChannel.SMS


def _channel_changed(*, candidate_id: uuid.UUID, previous: str, current: str, why: str) -> None:
    """On the candidate's timeline, for their advisor (ids and channel names only)."""
    TimelineEvent.objects.create(
        candidate_id=candidate_id,
        kind=TimelineEvent.Kind.CHANNEL_CHANGED,
        data={"from": previous, "to": current, "why": why},
        occurred_at=timezone.now(),
    )


def line_unlink(*, candidate_id: uuid.UUID, why: str = "line_unlinked") -> None:
    """Messages go by email again (SMS for someone without an email); the LINE user id is
    forgotten. Safe to call twice."""
    with transaction.atomic():
        candidate = Candidate.objects.select_for_update().get(pk=candidate_id)
        if candidate.contact_channel == ContactChannel.LINE or candidate.line_user_id:
            previous = candidate.contact_channel
            candidate.contact_channel = _fallback_channel(candidate)
            candidate.line_user_id = ""
            candidate.save(update_fields=["contact_channel", "line_user_id", "updated_at"])
            _channel_changed(
                candidate_id=candidate.pk, previous=previous, current=candidate.contact_channel, why=why
            )


def _link(*, code: str, line_user_id: str) -> uuid.UUID | None:
    """Use the code (once, unexpired) and link its candidate to ``line_user_id``."""
    now = timezone.now()
    found = LineLinkCode.objects.filter(code_hash=_code_hash(code), used_at__isnull=True, expires_at__gt=now)
    row = found.values_list("pk", "candidate_id").first()
    if row is None:
        return None
    pk, candidate_id = row
    if not LineLinkCode.objects.filter(pk=pk, used_at__isnull=True).update(used_at=now):
        return None  # used by a concurrent delivery
    # One LINE account reaches one candidate: whoever had it before goes back to email.
    for other in Candidate.objects.filter(line_user_id=line_user_id).exclude(pk=candidate_id):
        line_unlink(candidate_id=other.pk, why="line_moved")
    candidate = Candidate.objects.select_for_update().get(pk=candidate_id)
    previous = candidate.contact_channel
    candidate.line_user_id, candidate.contact_channel = line_user_id, ContactChannel.LINE
    candidate.save(update_fields=["line_user_id", "contact_channel", "updated_at"])
    _channel_changed(
        candidate_id=candidate.pk, previous=previous, current=ContactChannel.LINE, why="line_linked"
    )
    return candidate.pk


def _unfollowed(*, line_user_id: str) -> None:
    for candidate in Candidate.objects.filter(line_user_id=line_user_id):
        line_unlink(candidate_id=candidate.pk, why="line_unfollowed")


def _user_id(event: object) -> str | None:
    source = getattr(event, "source", None)
    return getattr(source, "user_id", None) or None


def _handle(event: object) -> str:
    """What one new event did: "linked", "unlinked" or "ignored"."""
    kind, user_id = getattr(event, "type", ""), _user_id(event)
    if user_id is None:  # a group or room, or no user: nothing of ours
        return "ignored"
    if kind == "unfollow":
        _unfollowed(line_user_id=user_id)
        return "unlinked"
    if kind == "message":
        text = getattr(getattr(event, "message", None), "text", None)
        if isinstance(text, str) and len(text) <= 40 and _link(code=text, line_user_id=user_id):
            return "linked"
    if kind == "accountLink":
        link = getattr(event, "link", None)
        nonce = getattr(link, "nonce", "")
        if getattr(link, "result", "") == "ok" and nonce and _link(code=nonce, line_user_id=user_id):
            return "linked"
    # "follow" alone says nobody's name: the code (or the account-link nonce) does.
    return "ignored"


def line_webhook_events_handle(*, events: list[object]) -> dict[str, int]:
    """Handle each event once (by ``webhookEventId``), each in its own transaction: the
    event is recorded with what it did, or neither. Returns counts for the log."""
    counts = {"linked": 0, "unlinked": 0, "ignored": 0, "repeated": 0}
    for event in events:
        event_id = getattr(event, "webhook_event_id", None)
        if not event_id:
            counts["ignored"] += 1
            continue
        try:
            with transaction.atomic():
                LineWebhookEvent.objects.create(
                    webhook_event_id=event_id, event_type=getattr(event, "type", "")[:30]
                )
                counts[_handle(event)] += 1
        except IntegrityError:  # handled before: a redelivery
            counts["repeated"] += 1
    logger.info("LINE webhook: %s", " ".join(f"{k}={v}" for k, v in counts.items()))  # no personal data
    return counts
