"""Lianzheng SDK: what trading systems and verifiers import.

Nothing here imports the notary server, FastAPI or SQLModel: a verifier trusts only
the chain and the maths.
"""
