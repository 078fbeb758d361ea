"""The sync domain: objects, rules and decisions; pure, no I/O."""
