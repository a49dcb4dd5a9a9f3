import os

import pytest

from p2pnet import identity, ids
from p2pnet.errors import KeyFileError
from p2pnet.identity import Identity


def test_save_and_load(tmp_path):
    who = Identity.generate()
    path = tmp_path / "member.key"
    identity.save(who, path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert identity.load(path) == who


def test_refuses_to_overwrite(tmp_path):
    path = tmp_path / "member.key"
    identity.save(Identity.generate(), path)
    with pytest.raises(KeyFileError, match="already exists"):
        identity.save(Identity.generate(), path)


def test_missing_key(tmp_path):
    with pytest.raises(KeyFileError, match="p2pnet init"):
        identity.load(tmp_path / "nope.key")


def test_loose_permissions(tmp_path):
    path = tmp_path / "member.key"
    identity.save(Identity.generate(), path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        identity.load(path)


def test_garbage_key(tmp_path):
    path = tmp_path / "member.key"
    path.write_bytes(b"not a key")
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="PEM"):
        identity.load(path)


def test_encrypted_export_round_trip():
    who = Identity.generate()
    pem = who.to_pem(b"correct horse")
    assert b"ENCRYPTED" in pem
    assert Identity.from_pem(pem, b"correct horse") == who
    with pytest.raises(KeyFileError):
        Identity.from_pem(pem, b"wrong")
    with pytest.raises(KeyFileError):
        Identity.from_pem(pem)


def test_member_id_round_trip():
    who = Identity.generate()
    assert ids.from_text("pm", who.member_id) == who.public
    assert ids.from_text("pm", who.member_id.upper()) == who.public
    with pytest.raises(ValueError, match="member id"):
        ids.from_text("pm", "pn" + who.member_id[2:])
    with pytest.raises(ValueError, match="characters"):
        ids.from_text("pm", who.member_id[:-1])


def test_signatures_interoperate_with_cryptography():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    who = Identity.generate()
    Ed25519PublicKey.from_public_bytes(who.public).verify(who.sign(b"msg"), b"msg")
