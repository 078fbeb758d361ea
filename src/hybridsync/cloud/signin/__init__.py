"""Sign-in: the grants that authenticate users, the sign-in page, pass-through authentication.

One dispatcher (:mod:`hybridsync.cloud.signin.verify`) checks a user's password by the
method that applies (cloud password, password hash sync, or an on-premises agent); the token
endpoint and the sign-in page both call it.
"""

from __future__ import annotations
