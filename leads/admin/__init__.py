"""The advisors' workspace (Django admin). One module per screen; importing them registers
the model admins with the default site."""

from leads.admin import (
    applications,
    candidates,
    followups,
    invoices,
    matching,
    partners,
    payouts,
    placements,
    webhooks,
)

__all__ = [
    "applications",
    "candidates",
    "followups",
    "invoices",
    "matching",
    "partners",
    "payouts",
    "placements",
    "webhooks",
]
