"""The package's public names: exported once each, importable (ruff keeps them sorted)."""

from __future__ import annotations

import hybridsync.cloud as cloud


def test_all_is_sorted_and_complete() -> None:
    assert len(cloud.__all__) == len(set(cloud.__all__))
    public = {name for name in vars(cloud) if not name.startswith("_") and name[0].isupper()}
    assert public - {"SYNC_ROLE"} <= set(cloud.__all__)
    for name in cloud.__all__:
        assert getattr(cloud, name) is not None
