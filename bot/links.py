"""Addresses of the web pages as members reach them, for cards and chat (issue #11).

PUBLIC_URL is the address WeCom users reach (https://filing.example.edu.cn). Without it (the
sandbox, or a deployment that has not set it yet) links point at SANDBOX_URL, the address
`flask --app bot run` serves on by default; a page opened from such a link works on the machine
running the sandbox, which is where the sandbox's demo users are."""

from __future__ import annotations

SANDBOX_URL = "http://127.0.0.1:5000"


def base_url(settings) -> str:
    """Scheme and host the links start with (no trailing slash)."""
    return (getattr(settings, "public_url", "") or SANDBOX_URL) if settings else SANDBOX_URL


def filing_url(settings, filing_id: int) -> str:
    """The page of one filing: /filings/<id>."""
    return f"{base_url(settings)}/filings/{filing_id}"
