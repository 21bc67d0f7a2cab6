"""A test pagoPA intermediary (GovPay's API Pendenze v1, our subset) and the contract it holds to.

server.py runs the intermediary on loopback; contract.py checks every exchange against the
schemas in api_pendenze.json and the rules a schema cannot state.
"""
