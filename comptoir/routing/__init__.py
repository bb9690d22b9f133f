"""Routing: who handles a conversation, and who can be given work now."""
