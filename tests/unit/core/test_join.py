from __future__ import annotations

from dataclasses import dataclass, field

from hybridsync.core.inbound import LinkAction, decide_link, keeps_mv
from hybridsync.core.objects import CSObject
from hybridsync.core.rules import Direction, JoinClause, JoinGroup, LinkType, SyncRule
from hybridsync.core.values import Values


@dataclass
class Metaverse:
    """A fake metaverse index: attribute -> value -> MV ids."""

    index: dict[str, dict[object, set[str]]] = field(default_factory=dict)
    links: set[tuple[str, str]] = field(default_factory=set)

    def candidates(self, attribute: str, values: Values, case_sensitive: bool) -> set[str]:
        found: set[str] = set()
        for value in values:
            for stored, ids in self.index.get(attribute, {}).items():
                same = stored == value or (
                    not case_sensitive and str(stored).lower() == str(value).lower()
                )
                if same:
                    found |= ids
        return found

    def has_link(self, mv_id: str, connector: str) -> bool:
        return (mv_id, connector) in self.links


def join_rule(
    name: str, *groups: tuple[tuple[str, str, bool], ...], link: LinkType = LinkType.PROVISION
) -> SyncRule:
    return SyncRule(
        name,
        Direction.INBOUND,
        "ad",
        "user",
        "person",
        link,
        100,
        join=tuple(JoinGroup(tuple(JoinClause(*c) for c in group)) for group in groups),
    )


def cs(**attributes: Values) -> CSObject:
    return CSObject("cs1", "ad", "anchor", "CN=x", "user", attributes)


MAIL = (("mail", "mail", False),)
SAM = (("sAMAccountName", "accountName", False), ("mailNickname", "alias", True))


def test_groups_top_to_bottom_first_with_exactly_one_candidate_wins() -> None:
    mv = Metaverse(
        {
            "mail": {"a@c.com": {"mv1", "mv2"}},
            "accountName": {"ann": {"mv3"}},
            "alias": {"Ann": {"mv3"}},
        }
    )
    decision = decide_link(
        cs(mail=("A@c.com",), sAMAccountName=("ANN",), mailNickname=("Ann",)),
        [join_rule("r", MAIL, SAM)],
        mv,
    )
    assert (decision.action, decision.mv_id) == (LinkAction.JOIN, "mv3")
    assert decision.trace == (
        "rule 'r' join group 1: 2 candidate(s)",
        "rule 'r' join group 2: 1 candidate(s)",
    )


def test_case_sensitive_clause_does_not_match_other_case() -> None:
    mv = Metaverse({"accountName": {"ann": {"mv3"}}, "alias": {"Ann": {"mv3"}}})
    decision = decide_link(
        cs(sAMAccountName=("ann",), mailNickname=("ANN",)), [join_rule("r", SAM)], mv
    )
    assert decision.action is LinkAction.PROJECT


def test_two_join_rules_in_scope_is_an_object_error() -> None:
    decision = decide_link(
        cs(mail=("a@c.com",)), [join_rule("r1", MAIL), join_rule("r2", MAIL)], Metaverse()
    )
    assert decision.action is LinkAction.STAY_DISJOINED
    assert decision.error == "join ambiguity: several rules with join clauses are in scope (r1, r2)"


def test_a_metaverse_object_already_joined_from_this_connector_is_a_conflict() -> None:
    mv = Metaverse({"mail": {"a@c.com": {"mv1"}}}, links={("mv1", "ad")})
    decision = decide_link(cs(mail=("a@c.com",)), [join_rule("r", MAIL)], mv)
    assert decision.action is LinkAction.STAY_DISJOINED
    assert "already joined" in str(decision.error)


def test_no_projection_without_a_join_attribute_value_and_join_rules_never_project() -> None:
    assert (
        decide_link(cs(), [join_rule("r", MAIL)], Metaverse()).action is LinkAction.STAY_DISJOINED
    )
    join_only = join_rule("r", MAIL, link=LinkType.JOIN)
    assert (
        decide_link(cs(mail=("x",)), [join_only], Metaverse()).action is LinkAction.STAY_DISJOINED
    )


def test_leaving_the_joining_rule_scope_disconnects() -> None:
    joined = CSObject("cs1", "ad", "anchor", "CN=x", "user", {}, mv_id="mv1", joined_by="r")
    assert decide_link(joined, [], Metaverse()).action is LinkAction.DISCONNECT
    assert decide_link(joined, [join_rule("r", MAIL)], Metaverse()).action is LinkAction.KEEP


def test_sticky_join_keeps_the_metaverse_object_only_provision_and_sticky_do() -> None:
    sticky = join_rule("s", MAIL, link=LinkType.STICKY_JOIN)
    plain = join_rule("j", MAIL, link=LinkType.JOIN)
    no_flow = join_rule("n", MAIL, link=LinkType.JOIN_NO_FLOW)
    assert keeps_mv([sticky], None)
    assert not keeps_mv([plain], "j")
    assert not keeps_mv([no_flow], None)
    assert keeps_mv([join_rule("p", MAIL)], None)
