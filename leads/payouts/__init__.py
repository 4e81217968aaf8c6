"""Partner payouts (CONTRACT section 8): rules, payable lines recorded with their events,
monthly statements, clawbacks."""
