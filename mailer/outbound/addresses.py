"""Internationalised addresses: what can be sent, and how it goes on the wire.

A domain in Unicode (``bücher.example``) goes in its IDNA form (``xn--bcher-kva.example``,
UTS #46 processing as browsers and mail clients use it) in the SMTP envelope and in the
headers: every server and every transport understands that. A local part in Unicode
(``jörg@example.de``) is another matter: it travels only as SMTPUTF8 (RFC 6531), and only when
every server on the way offers it, which nothing lets us know before the mail bounces, and
Microsoft Graph and Exchange Web Services give us no say at all. So such an address is refused
when people are imported, with the reason, rather than accepted and left to fail later.

Addresses are kept with the domain in its Unicode form (``canonical``), so a person imported as
``user@xn--bcher-kva.example`` and a reply From ``user@bücher.example`` are the same person.
"""
from __future__ import annotations

import idna

from mailer.errors import AddressError


def _ascii_domain(domain: str) -> str:
    if domain.isascii() and "xn--" not in domain:
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise AddressError(f"the domain {domain!r} is not a valid internationalised domain name ({exc})") from exc


def wire_address(address: str) -> str:
    """``address`` as it goes in the envelope and headers: the domain in its IDNA (ASCII) form.

    A non-ASCII local part is left as it is: only SMTPUTF8 can carry it (``needs_smtputf8``).
    """
    if address.isascii() and "xn--" not in address:
        return address  # the common case: nothing to do
    local, at, domain = address.rpartition("@")
    return f"{local}{at}{_ascii_domain(domain)}" if at else address


def canonical(address: str) -> str:
    """``address`` lower case, its domain in Unicode: one spelling for one mailbox.

    An address whose domain is not valid IDNA is returned lower case as it is.
    """
    address = address.strip().lower()
    if address.isascii() and "xn--" not in address:
        return address
    local, at, domain = address.rpartition("@")
    try:
        return f"{local}{at}{idna.decode(_ascii_domain(domain))}" if at else address
    except (AddressError, idna.IDNAError):
        return address


def needs_smtputf8(address: str) -> bool:
    """Whether ``address`` can only be sent with SMTPUTF8 (its local part is not ASCII)."""
    return not address.rpartition("@")[0].isascii()


def unsendable(address: str) -> str | None:
    """Why mail to ``address`` can never be sent, in plain words; None when it can."""
    if needs_smtputf8(address):
        return (f"{address!r} has non-ASCII letters before the @, which only mail servers "
                "offering SMTPUTF8 all the way can carry; give the person's ASCII address")
    try:
        wire_address(address)
    except AddressError as exc:
        return f"{address!r}: {exc}"
    return None
