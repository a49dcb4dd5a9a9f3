"""The worked examples in docs/protocol.md decode as the document says."""

import hashlib
import re
from pathlib import Path

from p2pnet import entries, ids
from p2pnet.identity import Identity

DOC = (Path(__file__).parent.parent / "docs" / "protocol.md").read_text(encoding="utf-8")


def example(name: str) -> bytes:
    m = re.search(rf"<!-- example:{name} -->\s*```\n(.*?)```", DOC, re.S)
    assert m, f"example {name} not found in docs/protocol.md"
    return bytes.fromhex("".join(m.group(1).split()))


def test_endorse_example():
    raw = example("endorse")
    assert len(raw) == 228
    who = Identity.from_seed(bytes(range(32)))
    assert who.member_id in DOC and who.public.hex() in DOC
    genesis = entries.create(who, network=b"", seq=1, prev=None, kind="network",
                             body={"name": "เครือข่าย", "kind": "natural"}, ts=1767225600000)  # fmt: skip
    assert genesis.id.hex() in DOC and ids.network(genesis.id) in DOC
    e = entries.parse(raw, network=genesis.id, now=1767225660000)
    assert (e.seq, e.prev, e.ts, e.kind, e.body) == (2, genesis.id, 1767225660000, "endorse",
                                                     {"member": bytes(32)})  # fmt: skip
    assert len(e.content) == 164
    assert hashlib.sha256(raw).hexdigest() in DOC and e.entry_id in DOC
    # and we produce exactly these bytes
    again = entries.create(who, network=genesis.id, seq=2, prev=genesis.id, kind="endorse",
                           body={"member": bytes(32)}, ts=1767225660000)  # fmt: skip
    assert again.raw == raw


def test_refusal_codes_are_documented():
    from p2pnet.errors import Refusal

    for code in Refusal:
        assert f"`{code}`" in DOC, code


def test_every_kind_and_field_is_documented():
    """Section 3.3 lists every kind with every field a body may carry."""
    from p2pnet.schema import SCHEMAS

    rows = {line.split("|")[1].strip(" `"): line for line in DOC.splitlines()
            if line.startswith("| `") and line.count("|") == 4}  # fmt: skip
    for kind, (_required, fields) in SCHEMAS.items():
        assert kind in rows, f"kind {kind} is missing from docs/protocol.md 3.3"
        for field in fields:
            assert field in rows[kind].split("|")[3], f"{kind}.{field} is not documented"
