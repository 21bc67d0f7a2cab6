"""The transit ledger: gates' readings taken in (readings, ledger), followed up until a
retroactive registration clears them or they become violations (settlement), reviewed by an officer
(review), watched live (situation) and forgotten when the law says (retention).
"""
