"""What an intent may do instead of a written answer (``Intent.action``; empty: answer)."""

# Ask for the order number if needed, then answer from the brand's order endpoint.
ORDER_STATUS = "order_status"
# Hand the conversation to a person at once.
HANDOFF_ACTION = "handoff"
# Offer the next free slots of the brand's shop and book the one the customer picks
# (``appointments.offers``); no free slot: hand off.
BOOK_APPOINTMENT = "book_appointment"
