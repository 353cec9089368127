"""X-Forwarded-Proto is trusted only behind a proxy (BEHIND_PROXY, default: not DEBUG)."""

import pytest

from tests.test_project import _manage

PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "k3y-" + "q9Zx!vR2#mLp7$wT" * 4, "ALLOWED_HOSTS": "inflow.example.com"}
SHOW = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"


@pytest.mark.parametrize(("env", "expected"), [
    (PRODUCTION, "('HTTP_X_FORWARDED_PROTO', 'https')"),
    ({**PRODUCTION, "BEHIND_PROXY": "0"}, "None"),
    ({"DEBUG": "1"}, "None"),
    ({"DEBUG": "1", "BEHIND_PROXY": "1"}, "('HTTP_X_FORWARDED_PROTO', 'https')"),
])
def test_the_forwarded_proto_header_is_trusted_only_behind_a_proxy(env, expected):
    result = _manage("shell", "--no-imports", "-c", SHOW, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
