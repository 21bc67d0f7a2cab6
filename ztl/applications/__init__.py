"""Applications: everything from a draft to a clerk's decision.

An applicant drafts, pre-checks, submits and pays (applicant); clerks work a queue (clerk_queue) and
decide (decisions); the counter applies and issues in one step (counter); documents, hotel guest
registrations and the payment system's receipts complete an application. Issuing the permit it asked
for is ztl.permits.
"""
