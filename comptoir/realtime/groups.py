"""Channel-layer group names (ASCII letters, digits, ``-``, ``_`` and ``.`` only)."""


def brand_inbox_group(brand_id: int) -> str:
    """Every agent of the brand: all agent-visible events."""
    return f"brand.{brand_id}.inbox"


def agent_group(membership_id: int) -> str:
    """One agent: what concerns them personally (assignments)."""
    return f"agent.{membership_id}"


def customer_group(customer_id: int) -> str:
    """Every widget of one customer: only customer-visible events, across their conversations."""
    return f"customer.{customer_id}"


def location_queue_group(location_id: int) -> str:
    """A location's waiting room: its customers' pages and lobby screens (nudges only)."""
    return f"location.{location_id}.queue"
