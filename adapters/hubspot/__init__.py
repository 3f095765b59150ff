"""HubSpot adapter: webhook signatures and events, CRM client (date-versioned paths,
``paths``), OAuth, webhook subscriptions, the developer-platform project (``project``).

Implements the ports in :mod:`connector.core.ports` (``RecordReader``, ``OwnerDirectory``,
``OwnerWriter``) with :class:`adapters.hubspot.client.HubSpotClient`. ``fake_server`` holds a
real HTTP fake of the HubSpot API for tests, the demo and benchmarks.

Nothing is wired at import time: importing this package builds no client and opens no
connection; ``connector.bootstrap`` constructs what it needs.
"""
