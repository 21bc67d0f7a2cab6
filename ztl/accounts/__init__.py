"""Accounts: who a person is here and how they prove it.

Staff sign-in with password and second factor, the identities SPID/CIE assert (verified_identity),
browser sessions that end everywhere at once, API tokens for machines, and who may act for a firm
(representation: legal representatives from the register, clerk-approved delegations).
"""
