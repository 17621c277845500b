"""The regulator console (``/oversight``): regulator officers sign in with a password and a
second factor, watch inquiry patterns and alerts, follow them to the log entries, and see the
log's state and missed deadlines (the regulator's duties of Art. 39 para. 3 and Art. 69)."""
