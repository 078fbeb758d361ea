"""The password hash that password hash synchronization sends to the cloud.

Entra Connect never sends a password or an NT hash. It derives, per user::

    NT hash (16 bytes) -> uppercase hex (32 characters) -> UTF-16LE (64 bytes)
        -> PBKDF2-HMAC-SHA256(salt = 10 random bytes, 1,000 iterations) -> 32 bytes

and sends ``v1;PPH1_MD4,<salt hex>,<iterations>,<hash hex>;``. Sign-in recomputes the same
chain from the entered password and compares. The details (uppercase hex, UTF-16LE, the
wire format) are those of DSInternals' ``OrgIdHash``, whose test vectors our tests load.

This module is pure: the random salt comes from :mod:`secrets` unless the caller passes
one. An :class:`NTHash` never shows its value in ``repr``/``str``, so that logging one by
mistake reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from hybridsync.errors import PasswordHashFormatError
from hybridsync.md4 import md4

__all__ = [
    "HASH_BYTES",
    "ITERATIONS",
    "NT_HASH_BYTES",
    "SALT_BYTES",
    "NTHash",
    "PasswordHash",
    "derive_password_hash",
    "nt_hash_of_password",
    "verify_nt_hash",
    "verify_password",
]

NT_HASH_BYTES = 16
SALT_BYTES = 10
ITERATIONS = 1000
HASH_BYTES = 32
_SCHEME = "v1;PPH1_MD4"
_WIRE = re.compile(
    r"v1;PPH1_MD4,(?P<salt>[0-9a-fA-F]+),(?P<iterations>[0-9]+),(?P<hash>[0-9a-fA-F]+);"
)


@dataclass(frozen=True, slots=True)
class NTHash:
    """The 16-byte NT hash of a user's password (MD4 of its UTF-16LE encoding).

    It is a password equivalent: keep it in memory only, never log or store it. Its
    ``repr`` and ``str`` hide the value.
    """

    value: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.value) != NT_HASH_BYTES:
            # The length is safe to show; the bytes are not.
            raise ValueError(f"an NT hash has {NT_HASH_BYTES} bytes, not {len(self.value)}")

    def __str__(self) -> str:
        return "NTHash(<hidden>)"


@dataclass(frozen=True, slots=True)
class PasswordHash:
    """A derived password hash: what the cloud stores for a password-hash-synced user."""

    salt: bytes
    iterations: int
    digest: bytes

    def __post_init__(self) -> None:
        if not self.salt:
            raise PasswordHashFormatError("password hash: the salt is empty")
        if self.iterations < 1:
            raise PasswordHashFormatError(
                f"password hash: iterations must be positive, not {self.iterations}"
            )
        if len(self.digest) != HASH_BYTES:
            raise PasswordHashFormatError(
                f"password hash: the hash has {len(self.digest)} bytes, not {HASH_BYTES}"
            )

    def to_wire(self) -> str:
        """``v1;PPH1_MD4,<salt hex>,<iterations>,<hash hex>;`` with lowercase hex."""
        return f"{_SCHEME},{self.salt.hex()},{self.iterations},{self.digest.hex()};"

    @classmethod
    def from_wire(cls, text: str) -> PasswordHash:
        """Parse the wire format.

        Raises:
            PasswordHashFormatError: the text is not in the format; the message says
                which part is wrong but never repeats the hash.
        """
        match = _WIRE.fullmatch(text.strip())
        if match is None:
            raise PasswordHashFormatError(
                "password hash: expected 'v1;PPH1_MD4,<salt hex>,<iterations>,<hash hex>;',"
                f" got another value of {len(text)} characters"
            )
        salt_hex, hash_hex = match["salt"], match["hash"]
        if len(salt_hex) % 2:
            raise PasswordHashFormatError("password hash: the salt has an odd number of hex digits")
        if len(hash_hex) != 2 * HASH_BYTES:
            raise PasswordHashFormatError(
                f"password hash: the hash has {len(hash_hex)} hex digits, not {2 * HASH_BYTES}"
            )
        return cls(bytes.fromhex(salt_hex), int(match["iterations"]), bytes.fromhex(hash_hex))


def nt_hash_of_password(password: str) -> NTHash:
    """The NT hash of a password: MD4 of its UTF-16LE encoding."""
    return NTHash(md4(password.encode("utf-16-le")))


def _pbkdf2(nt_hash: NTHash, salt: bytes, iterations: int) -> bytes:
    # The hex is uppercase and re-encoded as UTF-16LE, as DSInternals' OrgIdHash does.
    secret = nt_hash.value.hex().upper().encode("utf-16-le")
    return hashlib.pbkdf2_hmac("sha256", secret, salt, iterations, HASH_BYTES)


def derive_password_hash(
    nt_hash: NTHash, *, salt: bytes | None = None, iterations: int = ITERATIONS
) -> PasswordHash:
    """Derive the hash to send to the cloud; a fresh random 10-byte salt unless given."""
    if salt is None:
        salt = secrets.token_bytes(SALT_BYTES)
    return PasswordHash(salt, iterations, _pbkdf2(nt_hash, salt, iterations))


def verify_nt_hash(nt_hash: NTHash, stored: PasswordHash) -> bool:
    """True when ``nt_hash`` derives to ``stored`` (constant-time comparison)."""
    candidate = _pbkdf2(nt_hash, stored.salt, stored.iterations)
    return hmac.compare_digest(candidate, stored.digest)


def verify_password(password: str, stored: PasswordHash) -> bool:
    """True when ``password`` is the password ``stored`` was derived from."""
    return verify_nt_hash(nt_hash_of_password(password), stored)
