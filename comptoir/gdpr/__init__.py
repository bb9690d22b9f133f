"""Data subjects' rights (GDPR Art. 15, 17, 20): export and erasure of one customer.

Not an app (no models): it reads and writes the models of every app that keeps
something about a person, so it sits above them all, beside the console.
"""
