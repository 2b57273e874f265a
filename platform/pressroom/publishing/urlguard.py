"""Webhook targets must be http(s) and must not resolve to private, loopback or other
internal addresses (unless the operator allows it), checked when the endpoint is saved
and again before every delivery (DNS can change)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from pressroom.conf import pressroom_settings
from pressroom.core.errors import InputInvalid


def _addresses(host: str) -> set[str]:
    try:
        return {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as error:
        raise InputInvalid("Webhook host does not resolve.", {"url": [f"Cannot resolve {host!r}: {error.strerror}."]}) from None


def check_webhook_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputInvalid("Webhook URLs must be http or https.", {"url": ["Use an http:// or https:// URL with a host."]})
    if pressroom_settings.WEBHOOK_ALLOW_PRIVATE:
        return
    for address in _addresses(parts.hostname):
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise InputInvalid(
                "Webhook target is an internal address.",
                {"url": [f"{parts.hostname} resolves to {ip}, a private, loopback or reserved address."]},
            )
