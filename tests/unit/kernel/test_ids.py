"""The one id derivation: exactly ``uuid5`` of the namespace and ``escrow_id/kind/cause_id``."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from kernel.ids import ID_NAMESPACE, derive_id


@given(st.text(), st.text(), st.text())
def test_a_derived_id_is_the_uuid5_of_its_parts(escrow_id: str, kind: str, cause_id: str) -> None:
    expected = str(uuid.uuid5(ID_NAMESPACE, f"{escrow_id}/{kind}/{cause_id}"))

    assert derive_id(escrow_id, kind, cause_id) == expected
