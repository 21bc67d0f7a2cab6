"""Permit documents: reportlab renders the PDF, pyHanko signs it (PAdES B-B), signing last."""
