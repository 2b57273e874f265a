"""Webhook targets must be http(s) and must not resolve to private, loopback or other
internal addresses (unless the operator allows it), checked when the endpoint is saved
and again before every delivery (DNS can change)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from pressroom.conf import pressroom_settings
from pressroom.core.errors import InputInvalid

# The environment variable behind PRESSROOM["WEBHOOK_ALLOW_PRIVATE"] (settings.py), named in
# the refusal so whoever meets it knows the way round is an operator's setting.
ALLOW_PRIVATE_SETTING = "PRESSROOM_WEBHOOK_ALLOW_PRIVATE"
OPERATOR_MAY_ALLOW = f"An operator can allow such targets by setting {ALLOW_PRIVATE_SETTING}=true."


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
            raise InputInvalid(f"Webhook target is a private or loopback address. {OPERATOR_MAY_ALLOW}",
                               {"url": [_private_target(parts.hostname, ip)]})


def _private_target(host: str, ip) -> str:
    where = "is" if host == str(ip) else f"resolves to {ip}, which is"
    return f"{host} {where} a private, loopback or reserved address. {OPERATOR_MAY_ALLOW}"
