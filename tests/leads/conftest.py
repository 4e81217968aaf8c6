# The partner fixtures (make_partner, partner) and lead_body live in tests/partners.py,
# loaded for every test by tests/conftest.py; re-exported here for existing imports.
from tests.partners import PartnerClient, lead_body

__all__ = ["PartnerClient", "lead_body"]
