"""The assistant: answers simple requests at once and hands off to a human when it matters."""
