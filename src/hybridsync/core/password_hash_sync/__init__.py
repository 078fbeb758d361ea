"""Password hash sync, the pure part: the hash, which users need a sync, and where to.

- :mod:`.hashes`: the derivation Entra Connect uses, its wire format, parsing, verifying;
- :mod:`.changes`: which users need a sync (the change finder), the runner's state and
  the two ports (change feed, NT hash source);
- :mod:`.targets`: which users are in scope and which cloud object each one goes to,
  and the upload port.
"""
