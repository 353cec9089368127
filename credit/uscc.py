"""The unified social credit code (统一社会信用代码) of Chinese organizations, GB 32100-2015.

18 characters from a 31-character alphabet (digits and capitals without I, O, Z, S, V):
registration authority (1), organization type (1), administrative division (6 digits),
organization code (9, itself with a GB 11714 check character) and a check character over the
first 17, computed modulo 31 with the weights 3^i mod 31."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def uscc_normalize(raw: str) -> str:
    return (raw or "").strip().upper().replace(" ", "")


def uscc_check_character(first17: str) -> str:
    """The 18th character for the given first 17 (ValueError on a character outside the alphabet)."""
    if len(first17) != LENGTH - 1:
        raise ValueError("need exactly 17 characters")
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(raw: str) -> str | None:
    """None when `raw` is a valid code, else what is wrong with it (in English; callers translate)."""
    code = uscc_normalize(raw)
    if len(code) != LENGTH:
        return f"must be {LENGTH} characters, got {len(code)}"
    bad = sorted({char for char in code if char not in ALPHABET})
    if bad:
        return f"contains characters not used in these codes: {''.join(bad)}"
    if not code[2:8].isdigit():
        return "characters 3-8 (the administrative division) must be digits"
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]}, expected {expected}: a character is mistyped"
    return None
