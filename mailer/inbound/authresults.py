"""Whether our own mail server vouched for a message's sender: ``Authentication-Results`` (RFC 8601).

Anyone can write an ``Authentication-Results`` header into a message they send, so only the
one our own server added counts: the topmost header whose authserv-id is the configured one
(servers prepend theirs, so a forged copy sits below it; RFC 8601 section 5 asks the border
MTA to remove forged ones too). The sender is vouched for by a DMARC pass for the From domain,
or a DKIM pass whose signing domain (``header.d``) is aligned with the From domain (the same
domain, or one is a subdomain of the other: relaxed alignment, RFC 7489 section 3.1.1).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

COMMENT = re.compile(r"\([^()]*\)")
METHOD = re.compile(r"^\s*([a-z0-9_-]+)\s*(?:/\s*\d+)?\s*=\s*([a-z]+)(.*)$", re.IGNORECASE | re.DOTALL)
PROPERTY = re.compile(r"\b(header|smtp|body|policy)\.([a-z0-9_-]+)\s*=\s*(\"[^\"]*\"|[^\s;]+)", re.IGNORECASE)


@dataclass(frozen=True)
class AuthCheck:
    """The verdict: ``passed`` and a one-line ``summary`` kept with an approval for audit."""

    passed: bool
    summary: str


def parse(value: str) -> tuple[str, list[tuple[str, str, dict[str, str]]]]:
    """(authserv-id, [(method, result, {"header.d": …})]) of one header value."""
    text = " ".join(COMMENT.sub(" ", COMMENT.sub(" ", value)).split())
    parts = [p.strip() for p in text.split(";")]
    authserv = (parts[0].split() or [""])[0].lower()
    results = []
    for part in parts[1:]:
        found = METHOD.match(part)
        if found:
            props = {f"{a.lower()}.{b.lower()}": c.strip('"').lower()
                     for a, b, c in PROPERTY.findall(found.group(3))}
            results.append((found.group(1).lower(), found.group(2).lower(), props))
    return authserv, results


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment: the same domain, or one a subdomain of the other."""
    domain, from_domain = domain.lower().strip("."), from_domain.lower().strip(".")
    return bool(domain) and (domain == from_domain or from_domain.endswith("." + domain)
                             or domain.endswith("." + from_domain))


def check(header_values: list[str], trusted_authserv_id: str, from_addr: str) -> AuthCheck:
    """Whether the trusted server's topmost header shows DMARC or aligned DKIM passing for From."""
    if not trusted_authserv_id:
        return AuthCheck(True, "not checked (approvals.trusted_authserv_id is not set)")
    from_domain = from_addr.rpartition("@")[2].lower()
    ours = next((v for v in header_values if parse(v)[0] == trusted_authserv_id.lower()), None)
    if ours is None:
        return AuthCheck(False, f"no Authentication-Results from {trusted_authserv_id}")
    _, results = parse(ours)
    for method, result, props in results:
        if method == "dmarc" and result == "pass" and aligned(props.get("header.from", from_domain), from_domain):
            return AuthCheck(True, f"{trusted_authserv_id}: dmarc=pass header.from={from_domain}")
    for method, result, props in results:
        signer = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
        if method == "dkim" and result == "pass" and aligned(signer, from_domain):
            return AuthCheck(True, f"{trusted_authserv_id}: dkim=pass header.d={signer} "
                                   f"(aligned with {from_domain})")
    seen = ", ".join(f"{m}={r}" for m, r, _ in results) or "no results"
    return AuthCheck(False, f"{trusted_authserv_id}: no DMARC or aligned DKIM pass for {from_domain} ({seen})")


def authserv_seen(messages: list[list[str]]) -> Counter:
    """How many messages carry an Authentication-Results header whose topmost one (the last
    server's, the one that counts) names each authserv-id; ``messages``: each one's header values."""
    return Counter(parse(values[0])[0] for values in messages if values and parse(values[0])[0])


def advice(messages: list[list[str]], trusted_authserv_id: str) -> tuple[bool, str]:
    """(fine, one plain line) for ``run.py check`` about the replies received so far."""
    seen, total = authserv_seen(messages), len(messages)
    if not total:
        return True, "no replies received yet; run check again once some have arrived"
    listed = ", ".join(f"{server} ({count} of {total})" for server, count in seen.most_common(3))
    if trusted_authserv_id:
        count = seen.get(trusted_authserv_id.lower(), 0)
        others = f"; seen: {listed}" if listed and not count else ""
        return count > 0, (f"{count} of the last {total} replies carry Authentication-Results from "
                           f"{trusted_authserv_id} (approvals.trusted_authserv_id){others}")
    if not seen:
        return True, (f"none of the last {total} replies carries Authentication-Results: approvals rest on "
                      "the reply token alone (docs/trust.md)")
    top = seen.most_common(1)[0][0]
    return True, (f"replies carry Authentication-Results from {listed}; if {top} is your own mail server, set "
                  f'approvals.trusted_authserv_id = "{top}" so approvals need its DMARC pass (docs/trust.md)')
