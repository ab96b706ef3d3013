"""Opaque public identifiers: never the database primary key."""

import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case, no i/l/o/u


def random_string(length: int, alphabet: str = _ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_public_id(prefix: str, length: int = 16) -> str:
    """`prefix_` + `length` random base32 characters (80 bits for the default length)."""
    return f"{prefix}_{random_string(length)}"


def new_code(length: int = 12) -> str:
    """An unguessable human-typable code (coupons, invites): upper-case base32."""
    return random_string(length, "23456789ABCDEFGHJKLMNPQRSTUVWXYZ")
