"""Pieces several CRM adapters share (limits held in Redis)."""
