"""Payments: the providers that issue a payment notice and may say it was paid.

What a confirmed payment does to an application is ztl.applications.payment_receipts.
"""
