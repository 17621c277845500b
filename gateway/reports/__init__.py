"""Report issuance (Art. 39 para. 5): signed, verifiable credit reports of a subject's own file."""
