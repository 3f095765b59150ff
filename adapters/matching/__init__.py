"""Library-backed implementations of the matching ports of ``connector.core.matching``:
the public suffix list (``tldextract``, its bundled snapshot only) and fuzzy name
similarity (``rapidfuzz``)."""

from __future__ import annotations

import tldextract
from rapidfuzz import fuzz


class PublicSuffixSplitter:
    """Registrable domains from the public suffix list bundled with ``tldextract``.

    ``suffix_list_urls=()`` and ``cache_dir=None`` keep it off the network and off the
    disk: a lookup never waits on publicsuffix.org, and the list changes only when the
    package is upgraded. Only the ICANN part of the list is used: ``acme.github.io`` reads
    as ``github.io``, the registered name a CRM's domain field would hold.
    """

    def __init__(self) -> None:
        self._extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def registrable_domain(self, host: str) -> str | None:
        parts = self._extract(host)
        if not parts.domain or not parts.suffix:
            return None
        return f"{parts.domain}.{parts.suffix}"


class RapidfuzzNameScorer:
    """Plain Levenshtein similarity (``fuzz.ratio``) of the normalised names: a typo
    ("Umbrela" / "Umbrella", 93) matches, another company that shares a word ("Acme" /
    "Acme Foods", 57) does not, which a token-set or partial ratio would score 100."""

    def similarity(self, left: str, right: str) -> float:
        return float(fuzz.ratio(left, right))
