"""The on-premises pass-through authentication agent.

It registers with the cloud (a key pair made here, a client certificate issued there), then
keeps an outbound HTTPS long-poll to the cloud, decrypts each sign-in's password with its
private key and validates it against AD with an LDAP bind. It is a client of the cloud over
HTTPS only: it never imports the cloud directory's code.
"""

from __future__ import annotations
