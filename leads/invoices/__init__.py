"""Employer fees the agency bills (CONTRACT section 9): fee terms in force, qualified invoices
(適格請求書) and credit notes (返還インボイス), their numbers, tax, PDF, receivables and the
month's accounting export. Placements (leads.placements) call in here when a hire starts or
leaves; nothing here knows the applications' flow."""
