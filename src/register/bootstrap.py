"""Everything the register needs, built in one place from the settings and passed in, never imported as
globals."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .access.claims import IssuersFile
from .access.tokens import (
    DEV_ISSUER,
    DEV_JWKS_FILE,
    JwksSource,
    TokenSettings,
    TokenVerifier,
    TrustedIssuer,
    ensure_dev_signing_key,
)
from .config import Settings

if TYPE_CHECKING:  # the Elasticsearch client is an extra, imported only when a cluster is configured
    from .search.indexer import SearchIndex

log = logging.getLogger(__name__)


class ConfigurationError(Exception):
    pass


def build_verifier(settings: Settings) -> TokenVerifier:
    """Token verification as configured: the identity providers in REGISTER_OIDC_ISSUERS (keys by discovery,
    claims mapped by REGISTER_ISSUERS_FILE), and/or one issuer with the register's own claims from
    REGISTER_JWKS_URL or REGISTER_JWKS_FILE; in development also the locally generated signing key's issuer
    (`register-dev`), which production refuses."""
    algorithms = frozenset(a.strip() for a in settings.token_algorithms.split(",") if a.strip())
    token_settings = TokenSettings(
        settings.token_issuer, settings.token_audience, algorithms, settings.token_leeway_seconds
    )
    production = settings.environment != "development"
    issuers: list[TrustedIssuer] = []
    urls = settings.oidc_issuer_urls
    if urls:
        described = IssuersFile.load(settings.issuers_file)
        for url in urls:
            if production and (url == DEV_ISSUER or not url.startswith("https://")):
                raise ConfigurationError(
                    f"production trusts identity providers over https only; refused issuer {url!r}"
                )
            mapping, audience = described.for_issuer(url)
            keys = JwksSource(discovery=url, min_refresh_seconds=settings.jwks_refresh_seconds, lazy=True)
            issuers.append(
                TrustedIssuer(url, audience or settings.token_audience, keys, mapping, require_sub=False)
            )
    if settings.jwks_url or settings.jwks_file:
        if production and settings.token_issuer == DEV_ISSUER:
            raise ConfigurationError(
                f"the development issuer {DEV_ISSUER!r} is refused in production: "
                "set REGISTER_OIDC_ISSUERS (or REGISTER_TOKEN_ISSUER to the provider's issuer)"
            )
        source = (
            JwksSource(url=settings.jwks_url, min_refresh_seconds=settings.jwks_refresh_seconds)
            if settings.jwks_url
            else JwksSource(file=settings.jwks_file, min_refresh_seconds=settings.jwks_refresh_seconds)
        )
        issuers.append(TrustedIssuer(settings.token_issuer, settings.token_audience, source))
    elif not production:
        ensure_dev_signing_key(settings.resolved_key_dir)
        source = JwksSource(
            file=settings.resolved_key_dir / DEV_JWKS_FILE, min_refresh_seconds=settings.jwks_refresh_seconds
        )
        issuers.append(TrustedIssuer(settings.token_issuer, settings.token_audience, source))
    if not issuers:
        raise ConfigurationError(
            "production needs REGISTER_OIDC_ISSUERS (or REGISTER_JWKS_URL / REGISTER_JWKS_FILE): "
            "the identity provider"
        )
    if len({i.issuer for i in issuers}) != len(issuers):
        raise ConfigurationError(
            "an issuer is configured twice (REGISTER_OIDC_ISSUERS and REGISTER_TOKEN_ISSUER)"
        )
    return TokenVerifier(issuers, token_settings)


def build_search_index(settings: Settings) -> SearchIndex | None:
    """The Elasticsearch index as configured, or None on the embedded default (no Elasticsearch)."""
    if not settings.elasticsearch_url:
        return None
    from elasticsearch import Elasticsearch

    from .search.indexer import IndexSpec, SearchIndex

    # A cluster's nodes, each a URL: a request a node cannot take (refused, reset) is tried on the next, so
    # one node down costs no request. A timeout is not retried (a write may have been applied; the outbox
    # retries it).
    hosts = [u.strip() for u in settings.elasticsearch_url.split(",") if u.strip()]
    client = Elasticsearch(hosts, request_timeout=30, retry_on_timeout=False, max_retries=len(hosts) - 1)
    spec = IndexSpec.load(
        settings.search_alias,
        settings.search_index_definition,
        shards=settings.search_shards,
        replicas=settings.search_replicas,
    )
    return SearchIndex(client, spec)
