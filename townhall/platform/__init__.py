"""Domain rules and their persistence: programme, people, rooms, room event log, clock.

Imports the standard library and SQLAlchemy only; knows nothing of HTTP, WebSockets, Redis,
Jinja2 or settings. Domain actions are verbs taking keyword-only arguments; they return the
domain events they caused, and the caller commits and then publishes.
"""
