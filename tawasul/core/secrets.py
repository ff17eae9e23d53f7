"""Secrets kept encrypted at rest (webhook signing secrets, channel credentials).

A secret we must be able to read back (to sign with it, to log in to a
provider) cannot be stored as a digest. It is encrypted with Fernet (AES-128-CBC
and HMAC-SHA256) under a key derived from `SECRET_KEY` with HKDF, so a database
dump alone reveals nothing. Rotating `SECRET_KEY` keeps old values readable while
the previous key is listed in `SECRET_KEY_FALLBACKS`; `secret_encrypt` always
uses the current key.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_PURPOSE = b"tawasul.core.secrets/v1"


class SecretUnreadable(Exception):
    """The stored value was not encrypted under the current or a fallback SECRET_KEY."""


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys() -> MultiFernet:
    fallbacks = list(getattr(settings, "SECRET_KEY_FALLBACKS", []) or [])
    return MultiFernet([_fernet(key) for key in [settings.SECRET_KEY, *fallbacks]])


def secret_encrypt(plain: str) -> str:
    """The text encrypted under the current key, as an ASCII token to store."""
    return _keys().encrypt(plain.encode()).decode("ascii")


def secret_decrypt(token: str) -> str:
    """The text back; `SecretUnreadable` if no known key opens it (or it was altered)."""
    try:
        return _keys().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as error:
        raise SecretUnreadable("the stored secret cannot be decrypted") from error
