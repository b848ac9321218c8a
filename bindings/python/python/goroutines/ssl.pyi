import ssl as _ssl
from typing import Any

from .socket import socket as _gsocket

__all__ = ["SSLSocket", "SSLContext"]

class SSLSocket(_ssl.SSLSocket, _gsocket): ...  # type: ignore[misc]

class SSLContext(_ssl.SSLContext):
    sslsocket_class: Any
