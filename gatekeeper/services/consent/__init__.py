"""Consent and people: one write path per fact (the ledger), MIS imports, portal answers resolved into
consent, face templates and enrolment, safeguarding blocks."""
