"""The event log at the bottom of the dependency graph: what happened, who did it, who listens.

- ``comptoir.events.log.append_event``: the one write (in the action's transaction);
- ``comptoir.events.kinds``: every kind with the schema of its payload;
- ``comptoir.events.listeners.on``: side effects hang on kinds, run after commit,
  in this process or by a worker;
- ``comptoir.events.actors``: who did it (an agent, the customer, the assistant, Comptoir).

Nothing here imports a domain app: domains import this.
"""
