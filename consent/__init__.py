"""Consent grants and the gateway's authorization server - the pure rules.

Art. 61(2) forbids using credit information acquired without authorization, through
compelled authorization or through a single lifetime authorization; Art. 62 para. 2-3
requires a separate written consent for income, savings, securities, commercial insurance,
real estate and tax data; Art. 39 para. 2 defines authorized inquiries. This package turns
those articles, and the OAuth 2.0 machinery the gateway authenticates its clients with, into
pure functions over values. Nothing here does I/O: storage is behind the Protocols of
:mod:`consent.stores`, which the gateway implements; HTTP is the gateway's.

Where to find what:

==========================  ================================================================
module                      implements
==========================  ================================================================
``consent.requests``        Art. 61(2) refusals of consent requests; the pending grant
``consent.lifecycle``       states, the transition table, approve / reject / revoke / pause /
                            resume (citizen only), expire / exhaust (gateway); Art. 62 acts
``consent.inquiry``         Art. 39 / 61(2) / 62 checks of an authorized inquiry; use counting
``consent.grants``          the grant, written consent and lifecycle event values
``consent.purposes``        the purposes registry (``purposes.yaml``)
``consent.artefact``        the signed consent artefact (``typ`` ``consent+jwt``)
``consent.receipt``         the signed consent receipt (Kantara v1.1, ISO/IEC TS 27560)
``consent.passwords``       citizens' argon2id passwords
``consent.clients``         roles and their scopes (RFC 6749 section 3.3), registered clients
``consent.rfc6749``         the token endpoint, client credentials grant (section 4.4)
``consent.rfc7523``         ``private_key_jwt`` client authentication
``consent.rfc9068``         JWT access tokens: issue and verify
``consent.rfc9396``         ``authorization_details`` of type ``credit_inquiry``
``consent.rfc7662``         introspection responses
``consent.rfc7009``         token revocation
``consent.rfc8414``         authorization server metadata and endpoint URLs
``consent.rfc9449``         DPoP proofs, the token binding ``cnf.jkt``, server nonces
``consent.keys``            the Ed25519 key ring and its windows, RFC 7638 thumbprints, JWKS
``consent.jws``             signing and verifying under the RFC 8725 rules (alg allow-lists)
``consent.stores``          the Protocols the gateway implements
``consent.errors``          the OAuth and consent error families (RFC 9457 via ``problems``)
==========================  ================================================================

Catalog categories are plain ``str`` codes here. The caller passes the catalog's category
codes to :func:`consent.purposes.load_purposes` and the restricted ones (Art. 62) as
``restricted: frozenset[str]`` to the functions that need them.

A typical authorized inquiry, as the gateway composes it::

    keys = keyring.verifying_keys(now, ACCESS_TOKEN_LIFETIME, withdrawn=...)
    access = verify_access_token(bearer, keys, context, now=now, revoked=...)
    access.require_scope("inquiry:authorized")
    inquiry = Inquiry(grant_id, access.client_id, subject_key, purpose, categories)
    remaining = authorize_inquiry(grant_store, inquiry, now=now, restricted=RESTRICTED)
"""
