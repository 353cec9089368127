"""docker-compose.yml, the production shape: gunicorn is reachable only through the TLS proxy,
cookies are Secure, and forwarded headers are trusted because (and only because) a proxy sets them."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_only_the_proxy_is_published():
    services = _compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert services["proxy"]["image"].startswith("caddy:")
    assert "web:8000" in services["proxy"]["command"]


def test_the_app_runs_with_secure_cookies_and_trusts_one_proxy():
    for name in ("web", "worker", "beat"):
        env = _compose()["services"][name]["environment"]
        assert env["DEBUG"] == "0"
        assert (env["SESSION_COOKIE_SECURE"], env["CSRF_COOKIE_SECURE"], env["SECURE_SSL_REDIRECT"]) == ("1", "1", "1")
        assert (env["BEHIND_PROXY"], env["TRUSTED_PROXY_COUNT"]) == ("1", "1")
        assert env["SITE_URL"].startswith("https://")

