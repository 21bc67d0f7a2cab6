"""Seals: the municipality's keys, the trust and revocation lists it publishes, and verification of a
seal against them, as the police verifier does offline.
"""
