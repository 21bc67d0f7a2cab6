"""Identity asserted by an identity provider (SPID, CIE, the municipality's own) over OpenID Connect.

Why a package of its own: who a person is comes from the provider, never from what they type, and
the checks that make an assertion trustworthy (signature, issuer, audience, expiry, nonce, level of
assurance, fiscal number) belong in one place that the sign-in views only call.

- `providers`: the providers a municipality configures, read and checked at start-up;
- `assurance`: the SPID/CIE levels of assurance and their order;
- `assertion`: the person a provider asserts, taken from the ID token and userinfo claims;
- `client`: the OpenID Connect exchange itself, through Authlib.
"""
