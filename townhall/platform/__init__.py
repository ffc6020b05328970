"""Domain rules and their persistence: programme, people and seats, rooms, room event log,
questions, the floor (speaker list), backstage, access, clock.

Imports the standard library and SQLAlchemy only; knows nothing of HTTP, WebSockets, Redis,
Jinja2 or settings. Domain actions are verbs taking keyword-only arguments; they return the
domain events they caused, and the caller commits and then publishes.
"""
