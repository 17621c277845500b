"""Telling credit subjects what happened about them (Art. 63, 64, 67): e-mail and SMS."""
