"""Senders of notifications people read: Slack, SMTP mail and signed outgoing webhooks."""
