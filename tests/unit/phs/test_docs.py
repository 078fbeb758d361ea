from __future__ import annotations

import pytest
from tests.unit.phs.doc_blocks import dc_blocks, pure_blocks


def test_the_doc_has_its_examples() -> None:
    assert len(pure_blocks()) == 3
    assert len(dc_blocks()) == 1


@pytest.mark.parametrize("block", pure_blocks(), ids=lambda b: b.splitlines()[0][:40])
def test_every_pure_example_runs(block: str) -> None:
    exec(compile(block, "docs/password-hash-sync.md", "exec"), {})
