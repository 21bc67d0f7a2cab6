"""Keys, seals (the QR payload), trust and revocation lists (shared/spec/seal-format.md).

Pure of Flask and the database: the same code signs at issuance, verifies in the API and the CLI,
and documents what the police page does in the browser.
"""
