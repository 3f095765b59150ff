"""The routing domain: pure Python, standard library only.

Nothing here imports Flask, SQLAlchemy, requests or the CRM adapters; the store, the
web layer and the adapters depend on this package, never the other way round.
"""
