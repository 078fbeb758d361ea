"""Which objects the connector imports: domain, OU include and exclude lists, object types."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import ldap.dn

from hybridsync.errors import ConfigError

__all__ = ["OBJECT_FILTERS", "Scope", "is_under", "normalize_dn", "object_type_of"]

NormalDN = tuple[tuple[str, str], ...]

OBJECT_FILTERS = {
    # objectClass only: tombstones keep objectClass but lose objectCategory, and a
    # delta must still see deleted objects.
    "user": "(&(objectClass=user)(!(objectClass=computer)))",
    "group": "(objectClass=group)",
}


def normalize_dn(dn: str) -> NormalDN | None:
    """A DN as comparable RDNs (lower case, escapes resolved); None if it does not parse."""
    try:
        parsed = ldap.dn.str2dn(dn)
    except ldap.DECODING_ERROR:
        return None
    return tuple((attr.lower(), str(value).lower()) for rdn in parsed for attr, value, _ in rdn)


def _is_under(dn: NormalDN, base: NormalDN) -> bool:
    return len(dn) >= len(base) and dn[len(dn) - len(base) :] == base


def is_under(dn: NormalDN, base: str) -> bool:
    """Whether the parsed ``dn`` is ``base`` or below it (False when ``base`` does not parse)."""
    parsed = normalize_dn(base)
    return parsed is not None and _is_under(dn, parsed)


def object_type_of(object_classes: Iterable[bytes | str]) -> str | None:
    classes = {c.decode() if isinstance(c, bytes) else c for c in object_classes}
    classes = {c.lower() for c in classes}
    if "group" in classes:
        return "group"
    if "user" in classes and "computer" not in classes:
        return "user"
    return None


@dataclass(frozen=True, slots=True)
class Scope:
    """The domain and OU filters (Entra Connect's domain- and OU-based filtering)."""

    domain_dn: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    _bases: tuple[NormalDN, ...] = field(init=False, repr=False, compare=False)
    _excluded: tuple[NormalDN, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Parsed once: contains() runs for every object read.
        parsed = (normalize_dn(dn) for dn in self.bases())
        object.__setattr__(self, "_bases", tuple(dn for dn in parsed if dn is not None))
        excluded = (normalize_dn(dn) for dn in self.exclude)
        object.__setattr__(self, "_excluded", tuple(dn for dn in excluded if dn is not None))

    @classmethod
    def build(cls, domain_dn: str, include: Sequence[str], exclude: Sequence[str]) -> Scope:
        domain = normalize_dn(domain_dn)
        for dn in (*include, *exclude):
            parsed = normalize_dn(dn)
            if parsed is None or domain is None or not _is_under(parsed, domain):
                raise ConfigError(f"OU {dn!r} is not a DN inside the domain {domain_dn}")
        return cls(domain_dn, tuple(include), tuple(exclude))

    def bases(self) -> tuple[str, ...]:
        """Where full imports search: the included OUs, else the whole domain."""
        return self.include or (self.domain_dn,)

    def contains(self, dn: str) -> bool:
        parsed = normalize_dn(dn)
        if parsed is None or not any(_is_under(parsed, base) for base in self._bases):
            return False
        return not any(_is_under(parsed, base) for base in self._excluded)
