"""Records kept about the municipality's work: the audit chain, retention of old permits and
applications, a person's data export, and the figures and summaries of the back office.
"""
