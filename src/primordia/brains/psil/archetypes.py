"""Hand-written micro-PSIL brains from the reference sandbox (oisee/psil): founders of
populations and test fixtures."""

from __future__ import annotations

ARCHETYPES_HEX = {
    "forager": "8a0d 8c00 21 8c01 f1",
    "trader": "8a0f 20 0d 8808 8a0d 8c00 21 8c01 f1 8a12 8c00 24 8c01 8a0c 8c02 f1",
    "teacher": "8a0f 20 0d 8808 8a0d 8c00 21 8c01 f1 8a07 22 0c 8808 8a12 8c00 21 8c01 f1 "
               "26 8c01 8a0c 8c02 8a0d 8c00 f1",
    "crafter": "8a17 20 0d 8808 8a0d 8c00 21 8c01 f1 ff 8a0f 20 0d 8804 8a0d 8c00 25 8c01 f1",
    "farmer": "9305 9600 8a02 8a1b 20 0b 8802 f0 9800 f0",
    "fighter": "8a07 22 0c 8804 9306 f0 9400 9305 9600 f0",
    "healer": "8a07 22 0c 880a 9305 9600 f0 00000000 8a1c 8a07 22 0c 8802 f0 9500 f0",
}
"""The seven archetypes of the reference sandbox, as hex (spaces separate instructions)."""

ARCHETYPES: dict[str, bytes] = {
    name: bytes.fromhex(text.replace(" ", "")) for name, text in ARCHETYPES_HEX.items()
}
