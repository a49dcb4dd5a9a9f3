import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p2pnet import codec, entries
from p2pnet.entries import SIGN_PREFIX
from p2pnet.errors import EntryRefusedError, Refusal
from p2pnet.identity import Identity

ALICE = Identity.from_seed(bytes(range(32)))
NET = bytes(32)
NOW = 1_760_000_000_000


def signed(who, content):
    """Sign arbitrary content, bypassing every check (a hostile author)."""
    data = codec.encode(content)
    return data + who.sign(SIGN_PREFIX + data)


def activity(seq=1, prev=None, **body):
    b = {"title": "อบรม CPR ให้ อสม.", "kind": "training", "date": "2026-03-01", **body}
    return entries.create(ALICE, network=NET, seq=seq, prev=prev, kind="activity", body=b, ts=NOW)


def refusal(raw, network=NET):
    with pytest.raises(EntryRefusedError) as err:
        entries.parse(raw, network=network, now=NOW)
    return err.value.code


def test_create_and_parse_round_trip():
    e = activity(participants=[bytes(32)])
    back = entries.parse(e.raw, network=NET, now=NOW)
    assert back == e
    assert back.body["title"] == "อบรม CPR ให้ อสม."
    assert back.entry_id.startswith("pe") and back.author_id == ALICE.member_id


SIGNED = activity().raw


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=len(SIGNED) - 1), st.integers(1, 255))
def test_flipping_any_byte_is_refused(pos, flip):
    raw = bytearray(SIGNED)
    raw[pos] ^= flip
    with pytest.raises(EntryRefusedError):
        entries.parse(bytes(raw), network=NET, now=NOW)


@given(st.binary(max_size=300))
def test_random_bytes_are_refused(data):
    with pytest.raises(EntryRefusedError):
        entries.parse(data, network=NET, now=NOW)


def test_bad_signature():
    other = Identity.generate()
    content = SIGNED[:-64]
    assert refusal(content + other.sign(SIGN_PREFIX + content)) == Refusal.BAD_SIGNATURE


def test_signature_without_domain_prefix_is_refused():
    content = SIGNED[:-64]
    assert refusal(content + ALICE.sign(content)) == Refusal.BAD_SIGNATURE


def test_wrong_network():
    assert refusal(SIGNED, network=b"\x01" * 32) == Refusal.WRONG_NETWORK


def test_future_timestamp():
    e = entries.create(
        ALICE, network=NET, seq=1, prev=None, kind="leave", body={}, ts=NOW + 3600_000
    )
    assert refusal(e.raw) == Refusal.FUTURE_TIMESTAMP


def test_unknown_kind():
    raw = signed(ALICE, [1, NET, ALICE.public, 1, None, NOW, "poll", {}])
    assert refusal(raw) == Refusal.UNKNOWN_KIND


def test_unsupported_version():
    raw = signed(ALICE, [2, NET, ALICE.public, 1, None, NOW, "leave", {}])
    assert refusal(raw) == Refusal.UNSUPPORTED_VERSION


def test_too_large():
    raw = signed(ALICE, [1, NET, ALICE.public, 1, None, NOW, "leave", {"reason": "x" * 70000}])
    assert refusal(raw) == Refusal.TOO_LARGE


def test_non_canonical_int():
    good = codec.encode([1, NET, ALICE.public, 1, None, NOW, "leave", {}])
    bad = b"\x98\xcc\x01" + good[2:]  # version 1 written as uint8
    assert refusal(bad + ALICE.sign(SIGN_PREFIX + bad)) == Refusal.NON_CANONICAL


@pytest.mark.parametrize(
    "body,field",
    [
        ({"title": "", "kind": "training", "date": "2026-03-01"}, "title"),
        ({"title": "x", "kind": "party", "date": "2026-03-01"}, "kind"),
        ({"title": "x", "kind": "training", "date": "1/3/2569"}, "date"),
        ({"title": "x", "kind": "training"}, "date"),
        ({"title": "x", "kind": "training", "date": "2026-03-01", "colour": "red"}, "colour"),
        ({"title": "x", "kind": "training", "date": "2026-03-01", "participants": [b"x"]}, "participants[0]"),
        ({"title": 5, "kind": "training", "date": "2026-03-01"}, "title"),
    ],
)
def test_bad_field_names_the_field(body, field):
    raw = signed(ALICE, [1, NET, ALICE.public, 1, None, NOW, "activity", body])
    with pytest.raises(EntryRefusedError) as err:
        entries.parse(raw, network=NET, now=NOW)
    assert err.value.code == Refusal.BAD_FIELD
    assert repr(field) in str(err.value)


def test_profile_fields_validated():
    with pytest.raises(EntryRefusedError, match="province"):
        entries.create(ALICE, network=NET, seq=1, prev=None, kind="profile",
                       body={"name_th": "ก", "province": "Chiang Mai"})  # fmt: skip
    with pytest.raises(EntryRefusedError, match="name"):
        entries.create(ALICE, network=NET, seq=1, prev=None, kind="profile", body={"offers": []})
    e = entries.create(ALICE, network=NET, seq=1, prev=None, kind="profile", body={
        "name_th": "ชมรมผู้สูงอายุ", "province": "TH-50", "geo": ["18.79", "98.98"],
        "website": "https://example.or.th", "contact": {"email": "a@example.or.th"},
        "offers": ["ห้องประชุม"], "endpoints": ["https://node.example.or.th"]})  # fmt: skip
    assert e.body["province"] == "TH-50"


def test_genesis_rules():
    g = entries.create(ALICE, network=b"", seq=1, prev=None, kind="network",
                       body={"name": "เครือข่าย", "kind": "natural"}, ts=NOW)  # fmt: skip
    assert entries.parse(g.raw, network=g.id, now=NOW).id == g.id
    assert refusal(g.raw, network=NET) == Refusal.WRONG_NETWORK
    late = signed(ALICE, [1, NET, ALICE.public, 2, g.id, NOW, "network",
                          {"name": "x", "kind": "natural"}])  # fmt: skip
    assert refusal(late) == Refusal.BAD_FIELD


def test_prev_rules():
    raw = signed(ALICE, [1, NET, ALICE.public, 2, None, NOW, "leave", {}])
    assert refusal(raw) == Refusal.MALFORMED
    raw = signed(ALICE, [1, NET, ALICE.public, 1, bytes(32), NOW, "leave", {}])
    assert refusal(raw) == Refusal.MALFORMED
