import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from tenancy.models import AuditEntry
from tenancy.selectors import audit_verify
from tests.factories import CustomerFactory, make_invoice


@pytest.fixture
def ledger(organization, customer):
    for amount in ("100.00", "250.00", "75.50"):
        make_invoice(organization, customer, amount=amount)
    return organization


def _tamper(sql, params):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks, so ALTER TABLE may run
        cursor.execute("ALTER TABLE tenancy_auditentry DISABLE TRIGGER tenancy_auditentry_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE tenancy_auditentry ENABLE TRIGGER tenancy_auditentry_append_only")


def test_every_service_write_appends_a_linked_entry(ledger):
    entries = list(AuditEntry.objects.filter(organization=ledger).order_by("sequence"))

    assert [e.action for e in entries] == ["invoice.created"] * 3
    assert [e.sequence for e in entries] == [1, 2, 3]
    assert entries[1].previous_hash == entries[0].entry_hash
    assert audit_verify(ledger).ok


def test_edited_entry_is_reported_at_its_sequence(ledger):
    # given an entry whose recorded amount is changed behind the application's back
    entry = AuditEntry.objects.get(organization=ledger, sequence=2)
    _tamper("UPDATE tenancy_auditentry SET after = %s WHERE id = %s", ['{"total_amount": "1.00"}', entry.pk])

    result = audit_verify(ledger)

    assert result.broken_at == 2
    assert "edited" in result.reason


def test_deleted_entry_is_reported(ledger):
    entry = AuditEntry.objects.get(organization=ledger, sequence=2)
    _tamper("DELETE FROM tenancy_auditentry WHERE id = %s", [entry.pk])

    result = audit_verify(ledger)

    assert result.broken_at == 2
    assert result.reason == "entry 2 is missing"


def test_database_refuses_updates_and_deletes(ledger):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE tenancy_auditentry SET action = 'x'")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM tenancy_auditentry")


def test_model_refuses_update_and_delete(ledger):
    entry = AuditEntry.objects.filter(organization=ledger).first()
    entry.action = "forged"
    with pytest.raises(RuntimeError, match="append-only"):
        entry.save()
    with pytest.raises(RuntimeError, match="append-only"):
        entry.delete()


def test_chains_are_per_organization(ledger, other_organization):
    other_customer = CustomerFactory(organization=other_organization, currency="USD")
    make_invoice(other_organization, other_customer)

    assert AuditEntry.objects.get(organization=other_organization).sequence == 1
    assert audit_verify(ledger).ok and audit_verify(other_organization).ok


def test_verify_audit_command_reports_first_broken_link(ledger, capsys):
    call_command("verify_audit")
    assert f"{ledger.slug}: ok (3 entries)" in capsys.readouterr().out

    entry = AuditEntry.objects.get(organization=ledger, sequence=2)
    _tamper("UPDATE tenancy_auditentry SET actor_label = 'mallory' WHERE id = %s", [entry.pk])
    with pytest.raises(CommandError, match="1 organization"):
        call_command("verify_audit", "--organization", ledger.slug)
    assert "BROKEN at entry 2" in capsys.readouterr().out


# --- the canonical form: orjson writes what the standard encoder wrote -----------------------------

def _standard_canonical(value):
    """The canonical JSON as the chain has defined it since its first entry: the standard library's
    encoder with DjangoJSONEncoder, keys sorted, no spaces, non-ASCII as is."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _json_values():
    import datetime as dt
    from decimal import Decimal

    from hypothesis import strategies as st

    text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)  # any code point a str may hold in UTF-8
    scalars = st.one_of(
        st.none(), st.booleans(), text, st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
        st.decimals(allow_nan=False, places=4, min_value=Decimal("-1e12"), max_value=Decimal("1e12")),
        st.dates(), st.datetimes(timezones=st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=8))])),
        st.uuids(), st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([1e16, 1e-7, 0.1, 5e-324, 1.7976931348623157e308, -0.0]),
    )
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=4),
                        max_leaves=12)


def test_canonical_json_is_the_standard_encoders_bytes():
    """Whatever the chain has hashed before must hash the same now: for every JSON-able value
    (floats, huge integers and every printable or control character included), canonical_json
    writes exactly the bytes of the standard encoder."""
    from hypothesis import given, settings

    from tenancy.services import canonical_json

    @given(_json_values())
    @settings(max_examples=1500, deadline=None)
    def same(value):
        assert canonical_json(value) == _standard_canonical(value)

    same()


def test_an_entrys_hash_is_the_standard_encoding_of_its_content(ledger):
    """audit_record_many hashes with orjson fragments; the definition is still the sha256 of the
    standard encoder's canonical JSON of the whole entry."""
    import hashlib

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tenancy.services import _chain_hash, canonical_json

    text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)

    @given(label=text, action=text, object_id=text, before=st.none() | st.dictionaries(text, _json_values(), max_size=3),
           after=st.none() | st.dictionaries(text, _json_values(), max_size=3))
    @settings(max_examples=300, deadline=None)
    def same(label, action, object_id, before, after):
        content = {"organization": ledger.pk, "sequence": 7, "created_at": "2026-03-01T08:30:15.123456+00:00",
                   "actor": label, "action": action, "object_type": "receivables.invoice", "object_id": object_id,
                   "before": before, "after": after, "previous_hash": "ab" * 32}
        expected = hashlib.sha256(_standard_canonical(content)).hexdigest()
        assert _chain_hash(organization_id=ledger.pk, sequence=7, created_at=content["created_at"], actor=label,
                           action=action, object_type="receivables.invoice", object_id=object_id,
                           before=None if before is None else canonical_json(before),
                           after=None if after is None else canonical_json(after),
                           previous_hash="ab" * 32) == expected

    same()


def test_entries_written_many_at_once_verify_and_store_what_they_hash(ledger, customer):
    """Awkward content (control characters, Chinese, huge integers, floats, nested lists) survives
    the COPY into jsonb and still verifies."""
    import datetime as dt
    from decimal import Decimal

    from tenancy.services import audit_record_many

    awkward = {"text": "tab\there\nline \\N \x01\x1f\u2028 中文 🧾 \"q\"", "big": 2 ** 65, "float": 0.1, "tiny": 1e-7,
               "nested": [{"b": 1, "a": [None, True]}], "amount": Decimal("12.3400"), "day": dt.date(2026, 3, 1),
               # Integer keys are written as strings and read back in the strings' order ("10" < "9").
               "by_bucket": {10: "a", 9: "b"}}
    audit_record_many(organization=ledger, actor=None, action="test.awkward", entries=[
        (customer, None, awkward), (customer, awkward, {"text": "after"}), (customer, {}, None)])

    entries = list(AuditEntry.objects.filter(organization=ledger, action="test.awkward").order_by("sequence"))
    assert entries[0].after == {**awkward, "amount": "12.3400", "day": "2026-03-01", "by_bucket": {"10": "a", "9": "b"}}
    assert entries[1].before == entries[0].after and entries[2].before == {} and entries[2].after is None
    assert audit_verify(ledger).ok


def test_jsonable_keeps_integers_beyond_64_bits_exact():
    from tenancy.services import jsonable

    assert jsonable({"n": 2 ** 70, "m": -(2 ** 64) - 1}) == {"n": 2 ** 70, "m": -(2 ** 64) - 1}
