"""Touchpoints: the adapters that turn what a channel delivers into Comptoir's inbound shape."""
