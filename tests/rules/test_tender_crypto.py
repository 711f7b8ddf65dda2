"""Sealing's cryptography against the standards: SM4 (GB/T 32907 example, RFC 8998 SM4-GCM),
Shamir k-of-n, shares sealed to their holders and bound to their bid."""
from __future__ import annotations

import itertools
import json
import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from lianzheng.rules.tender import crypto
from lianzheng.rules.tender.crypto import SealError
from tests.conftest import VECTORS

SM4 = json.loads((VECTORS / "sm4" / "vectors.json").read_text())


def test_sm4_block_matches_the_gbt_32907_example():
    v = {k: bytes.fromhex(x) for k, x in SM4["gbt32907_example1"].items() if k != "source"}
    enc = Cipher(algorithms.SM4(v["key"]), modes.ECB()).encryptor()
    assert enc.update(v["plaintext"]) + enc.finalize() == v["ciphertext"]


def test_our_sm4_gcm_opens_the_rfc_8998_vector_and_refuses_it_changed():
    v = {k: bytes.fromhex(x) for k, x in SM4["rfc8998_a1_sm4_gcm"].items() if k != "source"}
    sealed = v["iv"] + v["ciphertext"] + v["tag"]  # our layout: nonce ‖ ciphertext ‖ tag
    assert crypto.decrypt(sealed, v["key"], "sm4-gcm", aad=v["aad"]) == v["plaintext"]
    for changed in (sealed[:20] + bytes([sealed[20] ^ 1]) + sealed[21:], sealed[:-1] + b"\x00"):
        with pytest.raises(SealError):
            crypto.decrypt(changed, v["key"], "sm4-gcm", aad=v["aad"])
    with pytest.raises(SealError):
        crypto.decrypt(sealed, v["key"], "sm4-gcm", aad=v["aad"] + b"x")


@pytest.mark.parametrize("cipher", crypto.CIPHERS)
def test_a_sealed_file_opens_with_its_key_and_section_only(cipher):
    key, clear = os.urandom(16), os.urandom(1000)
    sealed = crypto.encrypt(clear, key, cipher, aad=b"section A")
    assert crypto.decrypt(sealed, key, cipher, aad=b"section A") == clear
    with pytest.raises(SealError):
        crypto.decrypt(sealed, key, cipher, aad=b"section B")  # moved to another section
    with pytest.raises(SealError):
        crypto.decrypt(sealed, os.urandom(16), cipher, aad=b"section A")
    assert crypto.encrypt(clear, key, cipher) != crypto.encrypt(clear, key, cipher)  # fresh nonce each time


def test_any_k_of_n_shares_give_the_key_and_fewer_do_not():
    key = os.urandom(16)
    shares = crypto.split_key(key, 3, 5)
    for chosen in itertools.combinations(shares, 3):
        assert crypto.combine_shares(list(chosen)) == key
    for chosen in itertools.combinations(shares, 2):
        assert crypto.combine_shares(list(chosen)) != key
    with pytest.raises(SealError):
        crypto.combine_shares([shares[0], shares[0], shares[1]])
    with pytest.raises(SealError):
        crypto.split_key(key, 1, 3)  # one holder alone must never hold the key


@pytest.mark.parametrize("cipher", crypto.CIPHERS)
def test_a_share_opens_only_for_its_holder_and_its_bid(cipher):
    holder, other = crypto.new_holder_key(), crypto.new_holder_key()
    share = os.urandom(16)
    sealed = crypto.seal_share(share, crypto.public_bytes(holder), b"section|pseudonym A|holder", cipher)
    assert crypto.open_share(sealed, holder, b"section|pseudonym A|holder", cipher) == share
    with pytest.raises(SealError):
        crypto.open_share(sealed, other, b"section|pseudonym A|holder", cipher)
    with pytest.raises(SealError):
        crypto.open_share(sealed, holder, b"section|pseudonym B|holder", cipher)  # moved to another bid


def test_a_holder_claiming_another_holders_index_cannot_hide_the_good_shares():
    from lianzheng.rules.tender.opening import decrypt_entry

    key, clear = os.urandom(16), b"%PDF-1.7 offer"
    sealed = crypto.encrypt(clear, key, "aes-128-gcm", aad=b"S")
    (i1, s1), (i2, s2), _ = crypto.split_key(key, 2, 3)
    shadow = bytes([i1]) + os.urandom(16)  # a third holder releases garbage under holder 1's index
    for order in ([bytes([i1]) + s1, bytes([i2]) + s2, shadow], [shadow, bytes([i2]) + s2, bytes([i1]) + s1]):
        assert decrypt_entry(sealed, b"S", "aes-128-gcm", order, 2).clear == clear
