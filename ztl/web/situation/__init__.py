"""The situation room: a live page of the gates for supervisors and the police (views)."""
