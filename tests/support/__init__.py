"""What the realtime tests and benchmarks share: real processes and real clients.

- :mod:`.servers`: a Townhall server process (``python -m townhall serve``) and a throwaway
  ``redis-server``, each on a free port of 127.0.0.1, with bounded waits and kept logs.
- :mod:`.summit`: the Summit programme loaded into a database, and invitation links to it.
- :mod:`.clients`: identities got over HTTP (audience, invited staff) and a WebSocket client
  that tracks each room's epoch and ``seq``.
- :mod:`.room_state`: a reducer of room events, to check snapshot + events == next snapshot.
- :mod:`.asyncapi`: ``docs/asyncapi.yaml`` as an oracle for every message clients received.
- :mod:`.stack`: one test's deployment (database, Redis or none, servers, clients), closed
  as a whole.

May import ``townhall`` (to prepare databases and sign links) and the third-party clients
(``httpx``, ``websockets``, ``redis``; ``jsonschema`` and ``yaml`` for the document); nothing
in here is a test. Tests import it as ``support`` (``tests/`` is on ``sys.path`` through its
``conftest.py``).
"""
