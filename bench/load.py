"""Load while people work: the web app under gunicorn (the production command), driven by wrk on loopback.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inflow_bench_load \\
        .venv/bin/python -m bench.load [--orgs 1000] [--invoices 1000000] [--users 20] [--seconds 60] [--workers N]

1. Data: `--orgs` synthetic organizations (`load<invoices>-0001` ...) holding `--invoices` invoices in
   all, sizes skewed (a few organizations hold many invoices, most a few hundred; none more than a
   tenth), loaded with COPY (bench.generate's ledger), `--batch` organizations per transaction.
   Generated once and reused. For a sample of `--sample` organizations (the largest five and a
   random rest) a user (admin member) gets a fresh session row and an API key (read and write).
2. Server: `gunicorn config.wsgi:application -c gunicorn.conf.py` as the Dockerfile, docker-compose.yml
   and the Procfile run it (its sync workers, 2 x cores + 1 unless `--workers` says otherwise), on
   127.0.0.1 only, with the compose file's production environment (DEBUG=0, so the settings' production
   CONN_MAX_AGE; Secure cookies, SSL redirect, behind one proxy): wrk sends the headers the proxy
   (Caddy) would add (`X-Forwarded-Proto: https`, `X-Forwarded-For`).
3. Load: one wrk pass per class of request, `--users` connections for `--seconds` each, after a short
   unrecorded warm-up: **pages** (dashboard, invoice list, customer list, an invoice page, a customer
   page, rotating over the sampled organizations' sessions), **API reads** (GET /api/v1/invoices/,
   plain and filtered) and **API writes** (POST /api/v1/invoices/, unique number and external_id).
   wrk's latency distribution gives p50/p95/p99 per class (client side: queueing for a worker
   included). Errors: any response outside 2xx (counted in wrk's Lua `response()` hook: a 302 to the
   sign-in page is a failed page, not a success) plus wrk's socket errors and timeouts. The gunicorn
   access log (request time, %(D)s) gives the server-side time and count per kind of page, and the
   workers' CPU time over each pass (from /proc) divided by the requests served gives the CPU each
   request costs the app: the figure other work on the machine moves least.
   Each connection sends its next request as soon as the previous answer arrives (a closed loop, no
   think time): 20 requests always in flight. Think time is not modelled on purpose: wrk would hold
   connections open and idle between requests, and a sync worker that accepts an idle connection
   waits on it (tried: 44 ms API reads came back at a p50 of 770 ms); in production Caddy sends
   gunicorn only complete requests.

Targets (issue 18): p95 < 300 ms for pages, < 150 ms for API reads, 0 errors. Bounded: fixed
duration per pass, loopback only, connections closed and gunicorn stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/inflow_bench_load"
REDIS_URL = "redis://127.0.0.1:6379/13"
ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "gunicorn.conf.py"  # read by the production command (Dockerfile, compose, Procfile)
TARGET_MS = {"pages": 300, "api_read": 150}
HOST = "localhost"
SEED = 18


# --- data ----------------------------------------------------------------------------------

def organization_sizes(orgs: int, invoices: int, *, seed: int = SEED) -> list[int]:
    """Invoices per organization, summing to `invoices`: Pareto-skewed, at least one each, at most
    about a tenth of the total each (one tenant is never most of the database)."""
    if invoices < orgs:
        raise ValueError("need at least one invoice per organization")
    rng = np.random.default_rng(seed)
    weight = rng.pareto(1.2, size=orgs) + 1
    share = np.minimum(weight / weight.sum(), 0.1)
    sizes = np.maximum((share / share.sum() * (invoices - orgs)).astype(np.int64), 0) + 1
    order = np.argsort(-sizes, kind="stable")
    remainder = invoices - int(sizes.sum())  # rounding left over: spread one each over the largest
    for i in range(abs(remainder)):
        sizes[order[i % orgs]] += 1 if remainder > 0 else -1
    return sizes.tolist()


def customers_for(invoices: int) -> int:
    """About twenty invoices per customer (two years of history), 3 to 2,000 customers."""
    return max(3, min(2000, invoices // 20))


def organization_slug(total: int, number: int) -> str:
    return f"load{total}-{number:04d}"


def organizations_ensure(orgs: int, invoices: int, *, batch: int = 50, seed: int = SEED) -> list[int]:
    """Ids of the load organizations, generating the missing ones: `batch` organizations per
    transaction (bulk-created, then each one's ledger by COPY with the per-row foreign-key triggers
    off, as bench.generate does), planner statistics refreshed once at the end."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.generate import _foreign_key_triggers_off, fx_rates_draw, ledger_draw, ledger_load, tables_analyze
    from receivables.models import FxRate
    from tenancy.dates import local_today
    from tenancy.models import Organization

    sizes = organization_sizes(orgs, invoices, seed=seed)
    slugs = [organization_slug(invoices, n) for n in range(1, orgs + 1)]
    existing = dict(Organization.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    missing = [n for n, slug in enumerate(slugs) if slug not in existing]
    as_of = local_today("Asia/Shanghai")
    rates = fx_rates_draw(since=as_of - dt.timedelta(days=760), until=as_of, seed=seed)
    started, made = time.perf_counter(), 0
    for first in range(0, len(missing), batch):
        chunk = missing[first:first + batch]
        now = timezone.now().isoformat()
        with transaction.atomic():
            created = Organization.objects.bulk_create([
                Organization(name=f"Load {n + 1:04d} Trading (synthetic)", slug=slugs[n], base_currency="CNY",
                             timezone="Asia/Shanghai") for n in chunk])
            FxRate.objects.bulk_create(FxRate(organization=organization, currency=currency, rate_date=on, rate=rate)
                                       for organization in created for currency, on, rate in rates)
            with connection.cursor() as cursor:
                set_wise = _foreign_key_triggers_off(cursor)
                for n, organization in zip(chunk, created, strict=True):
                    ledger = ledger_draw(customers=customers_for(sizes[n]), invoices=sizes[n], as_of=as_of,
                                         seed=seed * 100_000 + n)
                    ledger_load(cursor.cursor, organization_id=organization.pk, ledger=ledger, now=now)
                    existing[organization.slug] = organization.pk
                if set_wise:
                    cursor.execute("SET LOCAL session_replication_role = origin")
        made += len(chunk)
        print(f"  generated {made:,} of {len(missing):,} organizations ({time.perf_counter() - started:.0f} s)",
              flush=True)
    if made:
        tables_analyze()
        print(f"generated {made:,} organizations ({sum(sizes[n] for n in missing):,} invoices) in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    return [existing[slug] for slug in slugs]


@dataclass
class Tenant:
    """One sampled organization's credentials and a few of its rows to open."""

    organization_id: int
    invoices: int
    session_key: str
    token: str
    invoice_ids: list[int] = field(default_factory=list)
    customer_ids: list[int] = field(default_factory=list)


def sample_pick(ids: list[int], sample: int, *, seed: int = SEED) -> list[int]:
    """The five largest organizations (the first ids are not the largest: sizes are per slug) are
    chosen by the caller; here a deterministic random pick of the rest."""
    rng = np.random.default_rng(seed + 1)
    if sample >= len(ids):
        return list(ids)
    return [ids[i] for i in sorted(rng.choice(len(ids), size=sample, replace=False).tolist())]


def tenants_ensure(organization_ids: list[int], sample: int, *, rows_per_tenant: int = 8) -> list[Tenant]:
    """For `sample` organizations (the five largest plus a random rest): an admin user, a new
    session row (as a sign-in would write it) and a new API key; and a few invoice and customer ids."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.db import connection
    from django.db.models import Count

    from receivables.models import Invoice
    from tenancy.api.keys import api_key_create
    from tenancy.models import Membership, Organization, Role

    counts = dict(Invoice.objects.filter(organization_id__in=organization_ids).values_list("organization_id")
                  .annotate(n=Count("id")).values_list("organization_id", "n"))
    largest = sorted(organization_ids, key=lambda pk: -counts.get(pk, 0))[:min(5, sample)]
    rest = [pk for pk in organization_ids if pk not in largest]
    chosen = largest + sample_pick(rest, sample - len(largest))
    store = import_module(settings.SESSION_ENGINE).SessionStore
    user_model = get_user_model()
    stamp = int(time.time())
    tenants = []
    for organization in Organization.objects.filter(pk__in=chosen).order_by("pk"):
        user, made = user_model.objects.get_or_create(username=f"load-{organization.slug}",
                                                      defaults={"email": f"{organization.slug}@load.invalid"})
        if made:
            user.set_unusable_password()  # never signs in by form: the session is written below
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(organization=organization, user=user, defaults={"role": Role.ADMIN})
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        token = api_key_create(organization=organization, actor=None, name=f"load {stamp}",
                               scopes=["read", "write"], rate_limit_per_minute=1_000_000).token
        with connection.cursor() as cursor:
            # A random few (TABLESAMPLE would skew to the first pages of small tenants; the sizes are modest).
            cursor.execute("SELECT id FROM receivables_invoice WHERE organization_id = %s ORDER BY random() LIMIT %s",
                           [organization.pk, rows_per_tenant])
            invoice_ids = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT id FROM receivables_customer WHERE organization_id = %s ORDER BY random() LIMIT %s",
                           [organization.pk, rows_per_tenant])
            customer_ids = [row[0] for row in cursor.fetchall()]
        tenants.append(Tenant(organization.pk, counts.get(organization.pk, 0), session.session_key, token,
                              invoice_ids, customer_ids))
    return tenants


# --- the server ----------------------------------------------------------------------------

ACCESS_LOG_FORMAT = "%(m)s %(U)s %(s)s %(D)s"  # method, path, status, microseconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(*, secret_key: str, database_url: str, redis_url: str, root: Path,
                       debug: bool = False, conn_max_age: int | None = None) -> dict[str, str]:
    """docker-compose.yml's web environment, pointed at loopback and this bench's database.
    `debug`: DEBUG on (no collected static files needed): for the toy-size test only. `conn_max_age`:
    CONN_MAX_AGE for the server (None: unset, the settings' default, as production: 60 s with DEBUG=0;
    0 to open a new connection per request as before)."""
    env = {key: value for key, value in os.environ.items() if key != "CONN_MAX_AGE"}
    if conn_max_age is not None:
        env["CONN_MAX_AGE"] = str(conn_max_age)
    return {
        **env,
        "DEBUG": "1" if debug else "0", "SECRET_KEY": secret_key, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "EMAIL_URL": "outbox:", "ALLOWED_HOSTS": HOST, "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "SECURE_SSL_REDIRECT": "1", "SESSION_COOKIE_SECURE": "1", "CSRF_COOKIE_SECURE": "1",
        "BEHIND_PROXY": "1", "TRUSTED_PROXY_COUNT": "1", "SITE_URL": f"https://{HOST}",
        "STATIC_ROOT": str(STATIC_CACHE), "MEDIA_ROOT": str(root / "media"), "REPORTS_ROOT": str(root / "reports"),
        "LOG_LEVEL": "WARNING", "CELERY_TASK_ALWAYS_EAGER": "false",
    }


STATIC_CACHE = Path(tempfile.gettempdir()) / "inflow-load-static"


def static_collect(env: dict[str, str]) -> None:
    """DEBUG=0 serves the manifest-hashed, compressed files (WhiteNoise): collect them as the image
    build does, into a cache kept between runs (compressing takes a minute or more); again only when
    a file under static/ is missing from the manifest (an edited file keeps being served in its
    collected version, which does not matter for timing)."""
    root = Path(__file__).resolve().parent.parent
    manifest = Path(env["STATIC_ROOT"]) / "staticfiles.json"
    if manifest.exists():
        collected = set(json.loads(manifest.read_text(encoding="utf-8")).get("paths", {}))
        sources = {p.relative_to(root / "static").as_posix() for p in (root / "static").rglob("*") if p.is_file()}
        if sources <= collected:
            return
    print("collecting static files (cached in " + env["STATIC_ROOT"] + ") ...", flush=True)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], env=env,
                   check=True, cwd=root)


def proxy_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    """What Caddy adds in front of gunicorn in docker-compose.yml."""
    return {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1", **(extra or {})}


def production_workers(env: dict[str, str] | None = None) -> int:
    """How many workers gunicorn.conf.py starts here (2 x cores + 1, or WEB_CONCURRENCY)."""
    import runpy

    saved = os.environ.get("WEB_CONCURRENCY")
    wanted = (env or os.environ).get("WEB_CONCURRENCY")
    try:
        if wanted is None:
            os.environ.pop("WEB_CONCURRENCY", None)
        else:
            os.environ["WEB_CONCURRENCY"] = wanted
        return int(runpy.run_path(str(GUNICORN_CONF))["workers"])
    finally:
        if saved is None:
            os.environ.pop("WEB_CONCURRENCY", None)
        else:
            os.environ["WEB_CONCURRENCY"] = saved


class Server:
    """`gunicorn config.wsgi:application -c gunicorn.conf.py` (the production command) on 127.0.0.1;
    `workers` overrides the file's count (None: the file's)."""

    def __init__(self, *, workers: int | None, env: dict[str, str], access_log: Path):
        self.port = free_port()
        # Its own control socket (gunicorn 23+ opens one, by default in ~/.gunicorn, shared by every server).
        control = access_log.parent / "gunicorn.ctl"
        self.access_log = access_log
        self.process = subprocess.Popen(  # noqa: S603 - our own server command
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-c", str(GUNICORN_CONF),
             "--bind", f"127.0.0.1:{self.port}", *(["--workers", str(workers)] if workers else []),
             "--access-logfile", str(access_log), "--access-logformat", ACCESS_LOG_FORMAT,
             "--control-socket", str(control)],
            env=env, cwd=ROOT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}")
            try:
                request = urllib.request.Request(self.url + "/login/", headers=proxy_headers())  # noqa: S310
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise SystemExit("gunicorn did not answer in time")

    def cpu_seconds(self) -> float:
        """CPU (user + system) used so far by the workers alive now (children of the master)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # exited meanwhile
            if int(fields[1]) == self.process.pid:  # ppid
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# --- the load ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    kind: str  # dashboard, invoice_list, ... (also what the access log's path is classified as)
    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None  # for POST: a Lua format string taking (run, thread, counter)


PAGE_KINDS = ("dashboard", "invoice_list", "customer_list", "invoice_page", "customer_page")
CLASSES = {"pages": PAGE_KINDS, "api_read": ("api_invoice_list",), "api_write": ("api_invoice_create",)}


def path_kind(method: str, path: str) -> str:
    """The kind of request a logged method and path are (the access log has no query string)."""
    if path.startswith("/api/v1/invoices/"):
        return "api_invoice_create" if method == "POST" else "api_invoice_list"
    if path == "/":
        return "dashboard"
    for prefix, name in (("/invoices/", "invoice"), ("/customers/", "customer")):
        if path == prefix:
            return f"{name}_list"
        if re.fullmatch(re.escape(prefix) + r"\d+/", path):
            return f"{name}_page"
    return "other"


def calls_for(klass: str, tenants: list[Tenant], *, today: dt.date) -> list[Call]:
    """The requests of one class, interleaved over the tenants (each request the next tenant's)."""
    calls = []
    rounds = max((len(t.invoice_ids) for t in tenants), default=0)
    for r in range(max(rounds, 1)):
        for t in tenants:
            page = proxy_headers({"Cookie": f"sessionid={t.session_key}"})
            api = proxy_headers({"Authorization": f"Bearer {t.token}", "Accept": "application/json"})
            invoice = t.invoice_ids[r % len(t.invoice_ids)]
            customer = t.customer_ids[r % len(t.customer_ids)]
            if klass == "pages":
                calls += [Call("dashboard", "GET", "/", page), Call("invoice_list", "GET", "/invoices/", page),
                          Call("customer_list", "GET", "/customers/", page),
                          Call("invoice_page", "GET", f"/invoices/{invoice}/", page),
                          Call("customer_page", "GET", f"/customers/{customer}/", page)]
            elif klass == "api_read":
                # What an ERP sync and a collector's tool ask: the first page, open items by due date,
                # one customer's invoices.
                calls += [Call("api_invoice_list", "GET", "/api/v1/invoices/", api),
                          Call("api_invoice_list", "GET", "/api/v1/invoices/?status=open&ordering=due_date", api),
                          Call("api_invoice_list", "GET", f"/api/v1/invoices/?customer={customer}", api)]
            elif klass == "api_write":
                body = json.dumps({"customer": customer, "number": "LD-%s-%s-%s", "external_id": "LD-%s-%s-%s",
                                   "issue_date": today.isoformat(), "net_amount": "1234.56", "tax_amount": "0.00",
                                   "description": "bench.load"})
                # Lua's string.format fills the same (run, thread, counter) into number and external_id.
                calls.append(Call("api_invoice_create", "POST", "/api/v1/invoices/",
                                  {**api, "Content-Type": "application/json"}, body))
            else:
                raise ValueError(klass)
    return calls


def call_once(url: str, call: Call, *, run: str = "smoke") -> int:
    """Send one call (urllib, no redirects followed); its status. A POST body gets `run` where wrk puts
    (run, thread, counter): unique per run."""
    body = None if call.body is None else call.body % tuple((run, 0, 0)[i % 3] for i in range(call.body.count("%s")))

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url + call.path, method=call.method, headers=call.headers,  # noqa: S310
                                     data=body.encode() if body is not None else None)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=120) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def smoke(url: str, tenants: list[Tenant], *, today: dt.date) -> dict[str, int]:
    """Each kind of request once, with the first tenant's credentials: kind -> status. Run before the
    load, so a broken URL or credential fails loudly instead of as a pass full of errors."""
    statuses = {}
    for klass in CLASSES:
        for call in calls_for(klass, tenants[:1], today=today):
            if call.kind not in statuses:
                statuses[call.kind] = call_once(url, call, run=f"smoke{secrets.token_hex(4)}")
    return statuses


def _lua_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def lua_script(calls: list[Call], *, run: str) -> str:
    """A wrk script: each thread walks the list from its own offset; POST bodies get a unique
    (run, thread, counter) number; `response()` counts everything outside 2xx; `done()` prints one
    JSON line with the latency percentiles (microseconds) and the counts."""
    entries = []
    for call in calls:
        headers = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in call.headers.items())
        body = _lua_string(call.body) if call.body is not None else "nil"
        entries.append(f"  {{{_lua_string(call.method)}, {_lua_string(call.path)}, {{{headers}}}, {body}}},")
    return f"""-- generated by bench/load.py
local calls = {{
{chr(10).join(entries)}
}}
local run = {_lua_string(run)}
local threads = {{}}
counter = 0
errors = 0
redirects = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  -- Threads start far apart in the list (tid is set per thread; the main state's threads table is not).
  counter = (tid - 1) * 7919
end

function request()
  counter = counter + 1
  local call = calls[(counter % #calls) + 1]
  local headers = {{}}
  for k, v in pairs(call[3]) do headers[k] = v end
  local body = call[4]
  if body then
    body = string.format(body, run, tid, counter, run, tid, counter)
  end
  return wrk.format(call[1], call[2], headers, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    errors = errors + 1
    if status >= 300 and status < 400 then redirects = redirects + 1 end
  end
end

function done(summary, latency, requests)
  local e, r = 0, 0
  for _, thread in ipairs(threads) do
    e = e + thread:get("errors")
    r = r + thread:get("redirects")
  end
  local s = summary.errors
  io.write(string.format(
    'LOAD_RESULT {{"requests": %d, "duration_us": %d, "non_2xx": %d, "redirects": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}}\\n',
    summary.requests, summary.duration, e, r, s.connect, s.read, s.write, s.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclass(frozen=True)
class PassResult:
    klass: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    redirects: int
    socket_errors: int
    # CPU the gunicorn workers used per request in the pass (ms): what the code costs, whatever else
    # runs on the machine (PostgreSQL's share is not in it).
    worker_cpu_ms: float | None = None

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_run(url: str, script: Path, *, connections: int, seconds: float, threads: int = 2) -> dict:
    """One bounded wrk pass; the JSON line its `done()` printed."""
    threads = max(1, min(threads, connections))
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "30s",
               "-s", str(script), url]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 120)  # noqa: S603
    line = next((line for line in result.stdout.splitlines() if line.startswith("LOAD_RESULT ")), None)
    if result.returncode or line is None:
        raise SystemExit(f"wrk failed ({result.returncode}): {result.stdout[-2000:]} {result.stderr[-2000:]}")
    return json.loads(line.removeprefix("LOAD_RESULT "))


def pass_result(klass: str, raw: dict) -> PassResult:
    return PassResult(
        klass=klass, requests=raw["requests"], seconds=raw["duration_us"] / 1e6, p50_ms=raw["p50"] / 1000,
        p95_ms=raw["p95"] / 1000, p99_ms=raw["p99"] / 1000, max_ms=raw["max"] / 1000, non_2xx=raw["non_2xx"],
        redirects=raw["redirects"], socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"])


@dataclass(frozen=True)
class KindStats:
    kind: str
    count: int
    not_2xx: int
    p50_ms: float
    p95_ms: float


def access_log_stats(path: Path, *, since_line: int = 0) -> tuple[list[KindStats], int]:
    """Server-side time per kind of request from the access log lines after `since_line`
    (the log's length is returned, to read the next pass from there)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []
    times: dict[str, list[float]] = {}
    bad: dict[str, int] = {}
    for line in lines[since_line:]:
        parts = line.split()
        if len(parts) != 4 or not parts[3].isdigit():
            continue
        method, path_, status, micros = parts
        kind = path_kind(method, path_)
        times.setdefault(kind, []).append(int(micros) / 1000)
        if not status.startswith("2"):
            bad[kind] = bad.get(kind, 0) + 1
    stats = []
    for kind, values in sorted(times.items()):
        values.sort()
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        stats.append(KindStats(kind, len(values), bad.get(kind, 0), statistics.median(values), p95))
    return stats, len(lines)


# --- the run -------------------------------------------------------------------------------

def load_run(*, server: Server, tenants: list[Tenant], workdir: Path, connections: int, seconds: float,
             warmup: float, classes=tuple(CLASSES)) -> tuple[list[PassResult], list[KindStats]]:
    """One unrecorded warm-up and one recorded wrk pass per class; the server-side stats of the recorded
    passes. After each pass the server is drained (a sync worker still answers what wrk left queued in
    the listen backlog when it stopped), so no pass starts behind the previous one's requests."""
    url, access_log = server.url, server.access_log
    today = dt.date.today()
    run = secrets.token_hex(4)
    results, kinds = [], []
    for klass in classes:
        script = workdir / f"{klass}.lua"
        script.write_text(lua_script(calls_for(klass, tenants, today=today), run=f"{run}{klass[-1]}"),
                          encoding="utf-8")
        if warmup > 0:
            warm = workdir / f"{klass}-warmup.lua"
            warm.write_text(lua_script(calls_for(klass, tenants, today=today), run=f"{run}w{klass[-1]}"),
                            encoding="utf-8")
            wrk_run(url, warm, connections=connections, seconds=warmup)
            server.wait_ready(timeout=120)
        _stats, offset = access_log_stats(access_log)
        cpu_before = server.cpu_seconds()
        result = pass_result(klass, wrk_run(url, script, connections=connections, seconds=seconds))
        server.wait_ready(timeout=120)
        time.sleep(0.5)  # gunicorn writes an access-log line after its response
        cpu = server.cpu_seconds() - cpu_before
        stats, _end = access_log_stats(access_log, since_line=offset)
        served = sum(s.count for s in stats)  # every request of the pass, the drain's too
        results.append(replace(result, worker_cpu_ms=cpu * 1000 / served if served else None))
        kinds += [s for s in stats if s.kind in CLASSES[klass]]  # not the drain probes (/login/)
    return results, kinds


def target_met(result: PassResult) -> bool | None:
    target = TARGET_MS.get(result.klass)
    if result.errors:
        return False
    return None if target is None else result.p95_ms < target


def table_print(results: list[PassResult], kinds: list[KindStats]) -> None:
    print(f"\n{'class':<10} {'requests':>9} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'errors':>7}  target")
    for r in results:
        target = TARGET_MS.get(r.klass)
        verdict = {True: "met", False: "MISSED", None: "-"}[target_met(r)]
        print(f"{r.klass:<10} {r.requests:>9,} {r.rate:>7.1f} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} {r.p99_ms:>8.1f} "
              f"{r.max_ms:>8.1f} {r.errors:>7}  {f'p95 < {target} ms, 0 errors' if target else '0 errors'}: {verdict}"
              + (f" ({r.redirects} redirects)" if r.redirects else ""))
    print(f"\nserver side (gunicorn access log, time inside the worker; no queueing):\n"
          f"{'kind':<20} {'count':>7} {'not 2xx':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for k in kinds:
        print(f"{k.kind:<20} {k.count:>7,} {k.not_2xx:>8} {k.p50_ms:>8.1f} {k.p95_ms:>8.1f}")
    print("\nworker CPU per request (gunicorn workers' user + system time over the pass / requests served; "
          "PostgreSQL not included): " + ", ".join(f"{r.klass} {r.worker_cpu_ms:.1f} ms" for r in results
                                                   if r.worker_cpu_ms is not None))


def results_record(results: list[PassResult], *, orgs: int, invoices: int, connections: int, workers: int) -> None:
    from bench.summary import summary_record

    for r in results:
        target = TARGET_MS.get(r.klass)
        summary_record(bench="load", figure=f"{r.klass} p95, {connections} connections, {workers} workers, "
                                            f"{orgs:,} orgs / {invoices:,} invoices ({r.requests:,} requests, "
                                            f"p50 {r.p50_ms:.0f}, p99 {r.p99_ms:.0f} ms)",
                       value=r.p95_ms, unit="ms", target=f"< {target} ms" if target else "", met=target_met(r))
        summary_record(bench="load", figure=f"{r.klass} errors", value=r.errors, unit="", target="0",
                       met=r.errors == 0)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--invoices", type=int, default=1_000_000, help="in total, over all organizations")
    parser.add_argument("--users", type=int, default=20, help="concurrent connections (wrk -c)")
    parser.add_argument("--seconds", type=float, default=60, help="recorded seconds per class of request")
    parser.add_argument("--warmup", type=float, default=5, help="unrecorded seconds per class first")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: gunicorn.conf.py's, as production: 2 x cores + 1)")
    parser.add_argument("--sample", type=int, default=50, help="organizations whose users and keys make the load")
    parser.add_argument("--classes", default=",".join(CLASSES), help="comma-separated: pages,api_read,api_write")
    parser.add_argument("--conn-max-age", type=int, default=None,
                        help="CONN_MAX_AGE for gunicorn (default: unset, the settings' production 60; 0: a "
                             "new connection per request)")
    parser.add_argument("--batch", type=int, default=50, help="organizations per generating transaction")
    parser.add_argument("--quick", action="store_true", help="20 organizations, 20,000 invoices, 10 s per class")
    args = parser.parse_args(argv)
    if args.quick:
        args.orgs, args.invoices, args.seconds, args.warmup, args.sample = 20, 20_000, 10, 2, 10
    args.classes = [c for c in args.classes.split(",") if c]
    unknown = set(args.classes) - set(CLASSES)
    if unknown:
        parser.error(f"unknown classes: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    os.environ.setdefault("DATABASE_URL", DATABASE_URL)
    os.environ.setdefault("REDIS_URL", REDIS_URL)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Sessions are signed and hold a hash keyed on SECRET_KEY: this process and gunicorn share one.
    os.environ["SECRET_KEY"] = secret_key = secrets.token_urlsafe(50)
    from bench.db import bench_setup

    bench_setup()
    ids = organizations_ensure(args.orgs, args.invoices, batch=args.batch)
    tenants = tenants_ensure(ids, min(args.sample, len(ids)))
    workdir = Path(tempfile.mkdtemp(prefix="inflow-load-"))
    env = server_environment(secret_key=secret_key, database_url=os.environ["DATABASE_URL"],
                             redis_url=os.environ["REDIS_URL"], root=workdir, conn_max_age=args.conn_max_age)
    static_collect(env)
    access_log = workdir / "access.log"
    server = Server(workers=args.workers, env=env, access_log=access_log)
    args.workers = args.workers or production_workers(env)
    try:
        server.wait_ready()
        statuses = smoke(server.url, tenants, today=dt.date.today())
        if any(not 200 <= status < 300 for status in statuses.values()):
            raise SystemExit(f"smoke check failed (kind -> status): {statuses}")
        load_before = os.getloadavg()
        results, kinds = load_run(server=server, tenants=tenants, workdir=workdir,
                                  connections=args.users, seconds=args.seconds, warmup=args.warmup,
                                  classes=args.classes)
        load_after = os.getloadavg()
    finally:
        server.stop()
        queue_purge()
    print(f"\n{args.orgs:,} organizations, {args.invoices:,} invoices; {len(tenants)} sampled (largest "
          f"{max(t.invoices for t in tenants):,} invoices); gunicorn --workers {args.workers} (sync), wrk -c "
          f"{args.users} for {args.seconds:g} s per class"
          + (f", CONN_MAX_AGE={args.conn_max_age}" if args.conn_max_age is not None else "")
          + f"; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after (1 min)")
    table_print(results, kinds)
    results_record(results, orgs=args.orgs, invoices=args.invoices, connections=args.users, workers=args.workers)
    shutil.rmtree(workdir, ignore_errors=True)
    return 1 if any(r.errors for r in results) else 0


def queue_purge() -> None:
    """The invoices created through the API queued their webhook and follow-up tasks on Redis; no
    worker runs here, so drop them rather than leave them for the next consumer of this Redis db."""
    try:
        from config.celery import app

        app.control.purge()
    except Exception as error:
        print(f"(could not purge the task queue: {error})")


if __name__ == "__main__":
    sys.exit(main())
