"""The claim file: one ZIP assembled from the collection history, for the insurer.

    index.html / index.txt   the claim, the indemnity computation and every file with its sha256,
                             in English and Chinese side by side
    invoices.csv             the claimed invoices and every other invoice of the buyer
    statement.csv            the statement of account on the claim's date
    reminders/               every dunning message sent to the buyer: exact content (text, HTML) and hash
    timeline.csv             the dunning timeline (each event with its content hash)
    disputes.csv, promises.csv, declarations.json, credit.json (limit decisions and scores)
    manifest.json            sha256 of every file"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from receivables.models import Invoice
from receivables.selectors import customer_statement
from tenancy.dates import local_today
from tenancy.models import Organization
from tenancy.spreadsheet import spreadsheet_row, spreadsheet_rows

from .models import Claim, Declaration


def _csv(header: list[str], rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(spreadsheet_row(header))
    writer.writerows(spreadsheet_rows(rows))  # text that would start a formula stays text (issue 13 item 3)
    return buffer.getvalue().encode("utf-8-sig")


def _json(value) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1).encode()


def _credit_file(organization: Organization, claim: Claim) -> dict:
    from credit.models import CreditProfile, CreditScore, LimitRequest

    profile = CreditProfile.objects.filter(organization=organization, customer=claim.customer).first()
    requests = LimitRequest.objects.filter(organization=organization, customer=claim.customer).prefetch_related("steps")
    scores = CreditScore.objects.filter(organization=organization, customer=claim.customer).order_by("created_at")[:50]
    return {
        "credit_limit": profile.credit_limit if profile else None,
        "payment_terms_days": profile.payment_terms_days if profile else None,
        "limit_decisions": [{"requested_limit": r.requested_limit, "status": r.status, "reason": r.reason,
                             "created_at": r.created_at, "decided_at": r.decided_at,
                             "steps": [{"level": s.level, "decision": s.decision, "comment": s.comment,
                                        "created_at": s.created_at} for s in r.steps.all()]} for r in requests],
        "scores": [{"as_of": s.as_of, "score": s.score, "grade": s.grade, "recommended_limit": s.recommended_limit}
                   for s in scores],
    }


def _index(claim: Claim, hashes: dict[str, str]) -> tuple[str, str]:
    steps = claim.computation
    lines = [
        f"Claim / 理赔 #{claim.pk} — {claim.policy.insurer_name} {claim.policy.policy_number}",
        f"Buyer / 买方: {claim.customer.name}",
        f"Status / 状态: {claim.status}   Filed on / 申报日期: {claim.filed_on or '-'}",
        f"Currency / 币种: {claim.currency}",
        "",
        "Expected indemnity / 预计赔款:",
        *[f"  {step['key']:<14} {step['amount']:>18}  {step['label']} {step.get('note', '')}" for step in steps],
        "",
        "Files / 文件 (sha256):",
        *[f"  {name}  {digest}" for name, digest in sorted(hashes.items())],
    ]
    text = "\n".join(lines) + "\n"
    labels = {"invoices.csv": "Invoices / 发票", "statement.csv": "Statement of account / 对账单",
              "timeline.csv": "Dunning timeline / 催收记录", "disputes.csv": "Disputes / 争议",
              "promises.csv": "Promises to pay / 承诺付款", "declarations.json": "Declarations / 申报",
              "credit.json": "Credit file decisions / 信用档案"}
    rows = "".join(f"<tr><td>{html.escape(labels.get(name, name))}</td><td><code>{html.escape(name)}</code></td>"
                   f"<td><code>{digest}</code></td></tr>" for name, digest in sorted(hashes.items()))
    step_rows = "".join(f"<tr><td>{html.escape(str(s['label']))}</td><td style='text-align:right'>{s['amount']}</td>"
                        f"<td>{html.escape(s.get('note', ''))}</td></tr>" for s in steps)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>Claim {claim.pk}</title></head><body>"
            f"<h1>Claim / 理赔 #{claim.pk}</h1><p>{html.escape(claim.policy.insurer_name)} "
            f"{html.escape(claim.policy.policy_number)} — {html.escape(claim.customer.name)}</p>"
            f"<h2>Expected indemnity / 预计赔款 ({claim.currency})</h2><table>{step_rows}</table>"
            f"<h2>Files / 文件</h2><table>{rows}</table></body></html>")
    return text, page


def claim_file_zip(organization: Organization, claim: Claim) -> bytes:
    """The ZIP bytes of a claim's file."""
    from dunning.models import CustomerEvent, Dispute, DunningMessage, PromiseToPay

    customer = claim.customer
    files: dict[str, bytes] = {}
    claimed = set(claim.lines.values_list("invoice_id", flat=True))
    invoices = Invoice.objects.filter(organization=organization, customer=customer).order_by("due_date", "pk")
    files["invoices.csv"] = _csv(
        ["number / 编号", "claimed / 已索赔", "issue_date / 开票日期", "due_date / 到期日", "currency / 币种",
         "total / 金额", "open / 未收", "status / 状态"],
        [[i.number, "yes" if i.pk in claimed else "", i.issue_date, i.due_date, i.currency, i.total_amount,
          i.balance, i.status] for i in invoices])
    as_of = claim.filed_on or local_today(organization.timezone)
    statement = customer_statement(organization, customer, as_of)
    files["statement.csv"] = _csv(
        ["currency / 币种", "number / 编号", "issue_date / 开票日期", "due_date / 到期日", "total / 金额",
         "open / 未收", "running_balance / 累计余额", "days_overdue / 逾期天数"],
        [[currency, line.number, line.issue_date, line.due_date, line.total, line.balance, line.running_balance,
          line.days_overdue] for currency, lines in statement.lines_by_currency.items() for line in lines])
    for message in DunningMessage.objects.filter(organization=organization, customer=customer).select_related(
            "run").order_by("created_at", "pk"):
        stem = f"reminders/{message.run.run_date:%Y-%m-%d}-{message.pk}"
        files[f"{stem}.txt"] = (f"Subject: {message.subject}\nTo: {', '.join(message.to)}\nStatus: {message.status}\n"
                                f"Sent at: {message.sent_at}\nContent sha256: {message.content_hash}\n\n"
                                f"{message.body_text}").encode()
        files[f"{stem}.html"] = message.body_html.encode()
        if message.letter_pdf:
            files[f"{stem}-letter.pdf"] = bytes(message.letter_pdf)
    events = CustomerEvent.objects.filter(organization=organization, customer=customer).order_by("occurred_at", "pk")
    files["timeline.csv"] = _csv(["occurred_at / 时间", "kind / 类型", "summary / 摘要", "actor / 操作人",
                                  "content_sha256"],
                                 [[e.occurred_at.isoformat(), e.kind, e.summary, e.actor_label, e.content_hash]
                                  for e in events])
    files["disputes.csv"] = _csv(
        ["invoice / 发票", "amount / 金额", "reason / 原因", "status / 状态", "opened_on / 提出日期",
         "resolved_on / 解决日期", "resolution / 结果"],
        [[d.invoice.number, d.amount, d.reason, d.status, d.opened_on, d.resolved_on, d.resolution]
         for d in Dispute.objects.filter(organization=organization, customer=customer).select_related("invoice")])
    files["promises.csv"] = _csv(
        ["made_on / 承诺日期", "promised_date / 承诺付款日", "amount / 金额", "status / 状态"],
        [[p.made_on, p.promised_date, p.amount, p.status]
         for p in PromiseToPay.objects.filter(organization=organization, customer=customer).order_by("made_on")])
    files["declarations.json"] = _json([
        {"id": d.pk, "kind": d.kind, "notified_on": d.notified_on, "reference": d.reference,
         "content_sha256": d.content_hash, "content": d.content}
        for d in Declaration.objects.filter(organization=organization, customer=customer).order_by("notified_on")])
    files["credit.json"] = _json(_credit_file(organization, claim))
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    text, page = _index(claim, hashes)
    files["index.txt"], files["index.html"] = text.encode(), page.encode()
    files["manifest.json"] = _json({"claim": claim.pk, "organization": organization.name, "customer": customer.name,
                                    "generated_at": timezone.now(), "files": hashes})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(name, files[name])
    return buffer.getvalue()
