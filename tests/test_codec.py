import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from p2pnet import codec
from p2pnet.errors import EntryRefusedError, Refusal

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.text()
    | st.binary(),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)


@given(values)
def test_round_trip(value):
    data = codec.encode(value)
    assert codec.encode(codec.decode(data)) == data


@given(st.dictionaries(st.text(max_size=6), st.integers(-1000, 1000), min_size=2, max_size=6))
def test_unsorted_map_is_refused(d):
    keys = sorted(d, key=lambda k: k.encode())
    if keys == list(reversed(keys)):
        return
    shuffled = {k: d[k] for k in reversed(keys)}
    data = msgpack.packb(shuffled, use_bin_type=True)
    with pytest.raises(EntryRefusedError) as err:
        codec.decode(data)
    assert err.value.code == Refusal.NON_CANONICAL


def test_encode_sorts_keys_by_utf8_bytes():
    assert codec.encode({"b": 1, "a": 2, "ก": 3}) == msgpack.packb(
        {"a": 2, "b": 1, "ก": 3}, use_bin_type=True
    )


@pytest.mark.parametrize(
    "data,code",
    [
        (b"\xcc\x05", Refusal.NON_CANONICAL),  # 5 as uint8 instead of a fixint
        (b"\xcb" + b"\x00" * 8, Refusal.NON_CANONICAL),  # a float
        (b"\xd4\x01\x00", Refusal.NON_CANONICAL),  # an extension type
        (b"\x92\x01", Refusal.MALFORMED),  # truncated array
        (b"\x01\x02", Refusal.MALFORMED),  # trailing bytes
        (b"\xc1", Refusal.MALFORMED),  # never-used byte
        (b"\xa2\xff\xfe", Refusal.MALFORMED),  # invalid UTF-8
        (b"\x82\xa1a\x01\xa1a\x02", Refusal.NON_CANONICAL),  # duplicate key
        (b"\x81\x01\x02", Refusal.MALFORMED),  # integer map key
    ],
)
def test_bad_bytes_are_refused_with_reason(data, code):
    with pytest.raises(EntryRefusedError) as err:
        codec.decode(data)
    assert err.value.code == code


def test_floats_cannot_be_encoded():
    with pytest.raises(EntryRefusedError):
        codec.encode({"x": 1.5})


@given(st.binary(max_size=64))
def test_random_bytes_never_crash(data):
    try:
        codec.decode(data)
    except EntryRefusedError:
        pass
