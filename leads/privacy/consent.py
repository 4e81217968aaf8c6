"""A candidate withdrawing consent (APPI): no more messages to them, and the partner sees
`closed`.

`candidate_withdraw_consent` records when, closes the candidate with the reason
`consent_withdrawn` (a placed candidate stays placed; one already closed keeps its reason),
cancels the pending outbox rows of their leads, lets the apps that write messages to the
candidate stop theirs, and writes an audit entry, all in one transaction.

Apps that depend on leads register their part from their AppConfig.ready(), as with
privacy_register; a hook runs inside the withdrawal's transaction, must send nothing and
be safe to run twice, and returns how many of its rows it cancelled:

    consent_register(name="bookings", hook=bookings_withdraw_consent)
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.outbox import outbox_cancel
from leads.audit import Action, audit_record
from leads.candidates.pipeline import candidate_close
from leads.models import Candidate, Lead

ConsentHook = Callable[[Candidate], int]
CONSENT_HOOKS: dict[str, ConsentHook] = {}


def consent_register(*, name: str, hook: ConsentHook) -> None:
    """Register another app's withdrawal hook under `name`. The same function again is
    harmless; another one under the same name is a bug."""
    if CONSENT_HOOKS.get(name, hook) is not hook:
        raise RuntimeError(f"Two consent hooks named {name!r}")
    CONSENT_HOOKS[name] = hook


@dataclass(frozen=True)
class ConsentWithdrawal:
    candidate: Candidate
    already: bool  # consent had been withdrawn before: nothing was changed
    cancelled: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def candidate_withdraw_consent(
    *, candidate_id: uuid.UUID, by: User | None, channel: str
) -> ConsentWithdrawal:
    """Withdraw the person's consent. A second call changes nothing."""
    candidate = Candidate.objects.select_for_update(of=("self",)).get(pk=candidate_id)
    if candidate.consent_withdrawn_at is not None:
        return ConsentWithdrawal(candidate=candidate, already=True)
    now = timezone.now()
    candidate.consent_withdrawn_at = now
    candidate.save(update_fields=["consent_withdrawn_at", "updated_at"])
    if not candidate.is_closed and candidate.stage != Candidate.Stage.PLACED:
        candidate = candidate_close(
            candidate_id=candidate.pk, reason=Candidate.ClosedReason.CONSENT_WITHDRAWN, by=by
        )

    lead_ids = Lead.objects.filter(candidate_id=candidate.pk).values_list("pk", flat=True)
    cancelled = {"leads": sum(outbox_cancel(subject=f"lead:{pk}") for pk in lead_ids)}
    for name, hook in CONSENT_HOOKS.items():
        cancelled[name] = hook(candidate)

    audit_record(candidate_id=candidate.pk, action=Action.CONSENT_WITHDRAWN, by=by, channel=channel, at=now)
    return ConsentWithdrawal(candidate=candidate, already=False, cancelled=cancelled)
