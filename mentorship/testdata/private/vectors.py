#!/usr/bin/env python3
"""Independent generator of the private-item test vectors (vector*.json).

It shares no code with the Go implementation: Ed25519 keys and X25519 come
from the Python 'cryptography' package; the Ed25519 -> X25519 conversion,
HKDF, HChaCha20 (hence XChaCha20-Poly1305), the canonical protobuf encoding
and the padding are written out here from their specifications
(RFC 7748, RFC 8032, RFC 5869, draft-irtf-cfrg-xchacha-03, docs/PROTOCOL.md).
The Go test (seal_vector_test.go) must reproduce every value.

Run from this directory: python3 vectors.py
"""
import hashlib
import hmac
import json
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

LABEL = b"mentormesh/private/v1"
P = 2**255 - 19
RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def ed_public(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(*RAW)


def x_private(seed):
    s = bytearray(hashlib.sha512(seed).digest()[:32])
    s[0] &= 248
    s[31] &= 127
    s[31] |= 64
    return bytes(s)


def x_public_from_ed(pub):
    y = int.from_bytes(pub, "little") & ((1 << 255) - 1)
    assert y < P
    u = (1 + y) * pow(1 - y, P - 2, P) % P
    return u.to_bytes(32, "little")


def hkdf_sha256(ikm, salt, info, n):
    prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def rotl(v, c):
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 7)


def hchacha20(key, nonce16):
    s = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    for _ in range(10):
        quarter(s, 0, 4, 8, 12); quarter(s, 1, 5, 9, 13); quarter(s, 2, 6, 10, 14); quarter(s, 3, 7, 11, 15)
        quarter(s, 0, 5, 10, 15); quarter(s, 1, 6, 11, 12); quarter(s, 2, 7, 8, 13); quarter(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def xchacha_seal(key, nonce24, plain, aad):
    sub = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(sub).encrypt(b"\0" * 4 + nonce24[16:], plain, aad)


def self_test():
    # draft-irtf-cfrg-xchacha-03, 2.2.1 and A.3.1.
    k = bytes(range(32))
    n = bytes.fromhex("000000090000004a0000000031415927")
    assert hchacha20(k, n).hex() == "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"
    pt = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
          b"the future, sunscreen would be it.")
    ct = xchacha_seal(bytes(range(0x80, 0xA0)), bytes(range(0x40, 0x58)), pt, bytes.fromhex("50515253c0c1c2c3c4c5c6c7"))
    assert ct.hex() == ("bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e"
                        "c0875924c1c7987947deafd8780acf49")
    # RFC 5869 test case 1.
    okm = hkdf_sha256(bytes([0x0B] * 22), bytes(range(13)), bytes(range(0xF0, 0xFA)), 42)
    assert okm.hex() == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"


def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def f_uint(num, v):
    return varint(num << 3) + varint(v) if v else b""


def f_bytes(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b if b else b""


def encode_item(it):
    return (f_uint(1, it["type"]) + f_bytes(2, it.get("title", "").encode()) + f_uint(3, it.get("status", 0))
            + f_uint(4, it.get("due_ms", 0)) + f_uint(5, it.get("date_ms", 0)) + f_uint(6, it.get("minutes", 0))
            + f_bytes(7, it.get("text", "").encode()))


def pad(b):
    n = 256
    while n < len(b) + 1:
        n *= 2
    return b + b"\x80" + b"\0" * (n - len(b) - 1)


def vector(description, seed_a, seed_b, writer, community, pairing_id, item_id, item, nonce):
    pub = {"a": ed_public(seed_a), "b": ed_public(seed_b)}
    xpriv = {"a": x_private(seed_a), "b": x_private(seed_b)}
    xpub = {w: x_public_from_ed(pub[w]) for w in "ab"}
    for w in "ab":  # the conversion of the public key matches the private scalar's
        derived = X25519PrivateKey.from_private_bytes(xpriv[w]).public_key().public_bytes(*RAW)
        assert derived == xpub[w], w
    shared = X25519PrivateKey.from_private_bytes(xpriv["a"]).exchange(X25519PublicKey.from_public_bytes(xpub["b"]))
    assert shared == X25519PrivateKey.from_private_bytes(xpriv["b"]).exchange(X25519PublicKey.from_public_bytes(xpub["a"]))
    lo, hi = sorted([pub["a"], pub["b"]])
    c = community.encode()
    info = LABEL + b"\0" + bytes([len(c)]) + c + bytes.fromhex(pairing_id) + lo + hi
    key = hkdf_sha256(shared, b"", info, 32)
    record_key = pairing_id + "/" + item_id
    aad = LABEL + b"\0" + bytes([len(c)]) + c + pub[writer] + bytes([len(record_key)]) + record_key.encode()
    plain = encode_item(item)
    padded = pad(plain)
    ct = xchacha_seal(key, nonce, padded, aad)
    payload = f_bytes(1, nonce) + f_bytes(2, ct)
    return {
        "description": description,
        "seed_a_hex": seed_a.hex(),
        "seed_b_hex": seed_b.hex(),
        "public_a_hex": pub["a"].hex(),
        "public_b_hex": pub["b"].hex(),
        "x25519_private_a_hex": xpriv["a"].hex(),
        "x25519_private_b_hex": xpriv["b"].hex(),
        "x25519_public_a_hex": xpub["a"].hex(),
        "x25519_public_b_hex": xpub["b"].hex(),
        "shared_secret_hex": shared.hex(),
        "community": community,
        "pairing_id": pairing_id,
        "hkdf_info_hex": info.hex(),
        "pair_key_hex": key.hex(),
        "writer": writer,
        "item_id": item_id,
        "record_key": record_key,
        "item": item,
        "plaintext_hex": plain.hex(),
        "padded_len": len(padded),
        "aad_hex": aad.hex(),
        "nonce_hex": nonce.hex(),
        "payload_hex": payload.hex(),
    }


def main():
    self_test()
    seed_a = bytes(range(1, 33))  # the key of sync/record/testdata/vector1.json
    seed_b = bytes(range(0x21, 0x41))
    vectors = {
        "vector1.json": vector(
            "A goal written by partner A, sealed to the pair A-B. Inputs: both seeds, community, pairing ID, writer, item ID, item, nonce. Everything else is an expected output.",
            seed_a, seed_b, "a", "sociocracy", "00112233445566778899aabbccddeeff", "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            {"type": 1, "title": "Facilitate a consent round", "status": 2, "due_ms": 1798675200000},
            bytes(range(0x40, 0x58))),
        "vector2.json": vector(
            "A session logged by partner B (the same pair and pairing as vector1), with multi-line, non-ASCII notes.",
            seed_a, seed_b, "b", "sociocracy", "00112233445566778899aabbccddeeff", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
            {"type": 2, "date_ms": 1795186800000, "minutes": 60, "text": "Role selection in the Équipe circle.\n\tNext: proposal forming."},
            bytes(range(0x80, 0x98))),
        "vector3.json": vector(
            "A note longer than 255 bytes (padded to 512) by partner A, in another community and pairing.",
            seed_a, seed_b, "a", "gophers", "ffeeddccbbaa99887766554433221100", "5555555555555555aaaaaaaaaaaaaaaa",
            {"type": 3, "text": ("Reflection: " + "we practised giving feedback in rounds. " * 7).strip()},
            bytes(range(0xC0, 0xD8))),
    }
    for name, v in vectors.items():
        with open(name, "w") as f:
            json.dump(v, f, indent=2, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
