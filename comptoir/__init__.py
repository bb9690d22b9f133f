"""Comptoir: one interlocutor for every customer, on every channel."""
