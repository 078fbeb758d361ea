"""The reverse join: a provisioning links an unlinked target object instead of creating one."""

from __future__ import annotations

from dataclasses import dataclass, field

from hybridsync.core.objects import CSObject, MVObject
from hybridsync.core.outbound import TargetAction, TargetState, reverse_join
from hybridsync.core.rules import Direction, JoinClause, JoinGroup, LinkType, SyncRule
from hybridsync.core.values import Values

MAIL = JoinGroup((JoinClause("mail", "mail"),))
UPN = JoinGroup((JoinClause("userPrincipalName", "userPrincipalName", case_sensitive=True),))
RULE = SyncRule("out", Direction.OUTBOUND, "cloud", "person", "user", LinkType.PROVISION, 10,
                join=(MAIL, UPN))  # fmt: skip
MV = MVObject("mv1", "person", {"mail": ("Ann@C.com",), "userPrincipalName": ("ann@c.com",)})


@dataclass
class Space:
    """A target's connector space in memory (the engine's is the store)."""

    objects_: list[CSObject]
    asked: list[str] = field(default_factory=list)

    def has_unlinked(self, connector: str) -> bool:
        return any(cs.mv_id is None for cs in self.objects_)

    def by_dn(self, connector: str, dn: str) -> CSObject | None:
        self.asked.append(f"dn {dn}")
        return next((cs for cs in self.objects_ if cs.dn == dn), None)

    def ids_by_value(
        self, connector: str, attribute: str, values: Values, case_sensitive: bool
    ) -> set[str]:
        self.asked.append(attribute)

        def same(a: object, b: object) -> bool:
            return a == b if case_sensitive else str(a).lower() == str(b).lower()

        return {
            cs.cs_id
            for cs in self.objects_
            if any(same(v, w) for v in values for w in cs.attributes.get(attribute, ()))
        }

    def objects(self, ids: list[str]) -> list[CSObject]:
        return [cs for cs in self.objects_ if cs.cs_id in ids]


def target(cs_id: str, mv_id: str | None = None, **attributes: Values) -> CSObject:
    return CSObject(cs_id, "cloud", f"a{cs_id}", f"CN={cs_id}", "user", attributes, mv_id=mv_id)


def state(dn: str | None = None) -> TargetState:
    return TargetState(TargetAction.PROVISION, (RULE,), RULE, dict(MV.attributes), dn=dn)


def test_the_object_at_the_wanted_dn_is_joined_first() -> None:
    space = Space([target("x"), target("y", mail=("ann@c.com",))])
    assert reverse_join("cloud", MV, state("CN=x"), RULE, space) == space.objects_[0]
    assert space.asked == ["dn CN=x"]


def test_the_first_join_group_with_exactly_one_unlinked_candidate_wins() -> None:
    space = Space([
        target("1", mail=("ann@c.com",)), target("2", mail=("ANN@c.com",)),
        target("3", userPrincipalName=("ann@c.com",)),
        target("4", userPrincipalName=("ANN@c.com",)),
    ])  # fmt: skip
    assert reverse_join("cloud", MV, state(), RULE, space) == space.objects_[2]
    assert space.asked == ["mail", "userPrincipalName"]


def test_linked_objects_are_never_taken_and_an_empty_space_is_not_searched() -> None:
    linked = Space([target("1", "other", mail=("ann@c.com",))])
    assert reverse_join("cloud", MV, state("CN=1"), RULE, linked) is None
    assert linked.asked == []  # nothing unlinked: no question asked
    mixed = Space([target("1", "other", mail=("ann@c.com",)), target("2", mail=("ann@c.com",))])
    assert reverse_join("cloud", MV, state("CN=1"), RULE, mixed) == mixed.objects_[1]
