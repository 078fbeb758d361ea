"""msgraph-sdk against the served directory: groups, nested members, managers, groups delta."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from msgraph import GraphServiceClient
    from msgraph.generated.models.group import Group
    from msgraph.generated.models.reference_update import ReferenceUpdate
    from msgraph.generated.models.user import User
    from msgraph.generated.users.item.check_member_groups.check_member_groups_post_request_body import (  # noqa: E501
        CheckMemberGroupsPostRequestBody,
    )

from tests.cloud.test_sdk import new_user, run, some
from tests.support.cloud_server import CloudTenant

pytestmark = pytest.mark.filterwarnings(
    "ignore:This class is deprecated:DeprecationWarning",
    "ignore:GetQueryParameters is deprecated:DeprecationWarning",
)
OBJECT = "https://graph.microsoft.com/v1.0/directoryObjects/{}"


def security_group(name: str, *member_ids: str) -> Group:
    return Group(
        display_name=name,
        mail_enabled=False,
        mail_nickname=name.lower().replace(" ", ""),
        security_enabled=True,
        group_types=[],
        additional_data={"members@odata.bind": [OBJECT.format(m) for m in member_ids]},
    )


def test_nested_groups_managers_and_delta_through_the_sdk(tenant: CloudTenant) -> None:
    async def scenario(client: GraphServiceClient) -> None:
        boss = some(await client.users.post(new_user(tenant, "boss")))
        guest = some(await client.users.post(new_user(tenant, "wmoran", user_type="Guest")))
        nested = some(await client.groups.post(security_group("Nested", some(guest.id))))
        partners = some(
            await client.groups.post(security_group("Partners", some(nested.id), some(boss.id)))
        )

        transitive = some(
            await client.groups.by_group_id(some(partners.id)).transitive_members.get()
        )
        kinds = sorted((type(o).__name__, o.id) for o in some(transitive.value))
        assert kinds == sorted(
            [("Group", nested.id), ("User", guest.id), ("User", boss.id)]  # typed by the SDK
        )
        member_of = some(await client.users.by_user_id(some(guest.id)).transitive_member_of.get())
        assert sorted(o.id for o in some(member_of.value)) == sorted([nested.id, partners.id])
        checked = some(
            await client.users.by_user_id(some(guest.id)).check_member_groups.post(
                CheckMemberGroupsPostRequestBody(group_ids=[some(partners.id)])
            )
        )
        assert checked.value == [partners.id]

        reference = ReferenceUpdate(odata_id=OBJECT.format(boss.id))
        await client.users.by_user_id(some(guest.id)).manager.ref.put(reference)
        manager = some(await client.users.by_user_id(some(guest.id)).manager.get())
        assert isinstance(manager, User)
        assert manager.id == boss.id

        first = some(await client.groups.delta.get())
        by_id = {g.id: g for g in some(first.value)}
        members = by_id[partners.id].additional_data["members@delta"]
        assert sorted(str(m["id"]) for m in members) == sorted([nested.id, boss.id])
        assert first.odata_delta_link

    run(tenant, scenario)
