"""The credit subject's second factors (Art. 61(2)): passkeys and TOTP authenticators, and the
step-up verification every consent decision needs."""
