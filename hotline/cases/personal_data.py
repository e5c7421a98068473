"""Encryption at rest for ID numbers. The key derives from HOTLINE_ID_KEY, else the secret key."""
import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hotline id numbers").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret: str, plaintext: str) -> str:
    return _fernet(secret).encrypt(plaintext.encode()).decode()


def decrypt(secret: str, ciphertext: str) -> str:
    return _fernet(secret).decrypt(ciphertext.encode()).decode()
