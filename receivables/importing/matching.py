"""Suggest a mapping from a file's header: each of our fields matched to a column by its name or
a synonym, in English or Chinese (客户名称 / Customer Name / Bill-to name), with a confidence the
mapping page shows beside each choice; and the date format and decimal separator its values use.

Nothing here is a guess the user cannot see: every suggestion is a preselected, editable choice."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from django.utils import translation

from .fields import FieldType, fields_for
from .mapping import ColumnSpec, Mapping
from .parsing import CellError, amount_parse, date_parse
from .reader import Table

# Other names for our fields, as ERP exports and finance teams write them (compared normalized:
# case, spaces and punctuation do not count). The field's own name and its label in each of our
# languages count too.
COMMON = {
    "currency": ["currency", "ccy", "cur", "currency code", "curr", "币种", "货币", "币别", "货币代码", "币种代码"],
    "customer_external_id": ["customer id", "customer number", "customer no", "customer code", "cust no",
                             "cust number", "cust id", "customerid", "client id", "client number",
                             "account number", "account no", "bill-to number", "bill to id", "debtor number",
                             "客户编号", "客户代码", "客户号", "客户ID", "客户编码", "客户账号"],
}
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "invoices": {
        "number": ["invoice number", "invoice no", "invoice #", "invoice", "inv no", "inv number", "invoice id",
                   "document number", "doc no", "document no", "bill number", "invoicenumber",
                   "发票号", "发票号码", "发票编号", "单据号", "单据编号", "票号"],
        "external_id": ["external id", "doc id", "document id", "erp id", "外部编号", "外部ID", "系统编号"],
        "customer_external_id": COMMON["customer_external_id"],
        "customer_name": ["customer name", "customer", "client", "client name", "bill-to name", "bill to name",
                          "bill to", "sold-to name", "buyer", "buyer name", "account name", "debtor", "company",
                          "name customer", "客户名称", "客户", "客户名", "购买方", "购方名称", "买方", "购货单位",
                          "付款方"],
        "issue_date": ["invoice date", "issue date", "date", "posting date", "document date", "billing date",
                       "invoicedate", "开票日期", "发票日期", "日期", "出票日期", "单据日期", "记账日期"],
        "due_date": ["due date", "due", "payment due", "due on", "maturity date", "net due date", "duedate",
                     "到期日", "到期日期", "应收日期", "付款到期日", "应付日期", "账期到期日"],
        "currency": COMMON["currency"],
        "net_amount": ["net amount", "net", "amount excl tax", "amount net", "subtotal", "不含税金额", "净额",
                       "金额不含税", "未税金额"],
        "tax_amount": ["tax", "vat", "tax amount", "vat amount", "gst", "税额", "增值税", "税金"],
        "total_amount": ["amount", "total", "total amount", "invoice amount", "gross amount", "amount due",
                         "gross", "invoiceamount", "金额", "总金额", "价税合计", "发票金额", "含税金额", "应收金额",
                         "合计金额"],
        "description": ["description", "memo", "remarks", "notes", "text", "描述", "备注", "摘要", "说明"],
        "po_reference": ["po", "po number", "po no", "purchase order", "po reference", "order number",
                         "采购订单号", "订单号", "采购单号"],
        "disputed": ["disputed", "dispute", "in dispute", "争议", "有争议", "是否争议"],
    },
    "customers": {
        "external_id": COMMON["customer_external_id"] + ["external id", "id", "code"],
        "name": ["name", "customer name", "customer", "company name", "company", "client name", "account name",
                 "客户名称", "名称", "客户", "公司名称", "客户名"],
        "legal_name": ["legal name", "registered name", "legal entity", "法定名称", "注册名称", "公司全称"],
        "registration_number": ["registration number", "company number", "tax id", "vat number", "uscc",
                                "统一社会信用代码", "注册号", "税号", "纳税人识别号"],
        "country": ["country", "country code", "国家", "国家代码"],
        "currency": COMMON["currency"],
        "payment_terms_days": ["payment terms", "terms", "terms days", "credit days", "payment days",
                               "账期", "付款期限", "信用期", "账期天数", "付款天数"],
        "language": ["language", "lang", "语言"],
        "contact_emails": ["email", "emails", "e-mail", "contact email", "邮箱", "电子邮件", "联系邮箱", "邮件"],
        "segment": ["segment", "customer type", "category", "客户类型", "细分", "客户分类"],
    },
    "payments": {
        "external_id": ["payment id", "payment number", "payment no", "receipt number", "receipt no",
                        "transaction id", "external id", "付款编号", "收款单号", "流水号", "收款编号", "交易号"],
        "customer_external_id": COMMON["customer_external_id"],
        "received_on": ["received on", "payment date", "receipt date", "date", "value date", "paid on",
                        "settled date", "settleddate", "收款日期", "付款日期", "到账日期", "日期", "回款日期"],
        "amount": ["amount", "payment amount", "received amount", "paid amount", "amount paid", "金额",
                   "收款金额", "付款金额", "回款金额", "到账金额"],
        "currency": COMMON["currency"],
        "method": ["method", "payment method", "payment type", "付款方式", "收款方式", "支付方式"],
        "reference": ["reference", "ref", "memo", "bank reference", "备注", "摘要", "参考号", "附言"],
        "invoice_number": ["invoice number", "invoice no", "invoice", "inv no", "发票号", "发票号码", "发票编号"],
    },
}

# A required field no column matched may share the column of another field (an invoice number is
# its external id too); the confidence says it is a fallback.
FALLBACKS: dict[str, dict[str, str]] = {
    "invoices": {"external_id": "number", "customer_external_id": "customer_name"},
    "customers": {"external_id": "name"},
    "payments": {"external_id": "reference"},
}

EXACT, SYNONYM, CONTAINS, SIMILAR, SHARED = "exact", "synonym", "contains", "similar", "shared"
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y%m%d", "%Y年%m月%d日",
                "%d-%m-%Y", "%m-%d-%Y", "%Y.%m.%d")
SAMPLE_ROWS = 200


@dataclass(frozen=True)
class Match:
    field: str
    column: str
    confidence: int  # percent
    how: str  # EXACT, SYNONYM, CONTAINS, SIMILAR or SHARED


@dataclass
class Suggestion:
    mapping: Mapping
    matches: dict[str, Match]  # our field -> how its column was found


def normalize(text: str) -> str:
    """Case, width, spaces and punctuation do not count: "Invoice No." == "invoice_no" == "ＩＮＶＯＩＣＥ ＮＯ"."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


def _names(kind: str) -> dict[str, tuple[set[str], set[str]]]:
    """For each field: its own names (field name, labels in each language) and its synonyms."""
    names = {}
    for name, spec in fields_for(kind).items():
        own = {normalize(name)}
        for language in ("en", "zh-hans"):
            with translation.override(language):
                own.add(normalize(str(spec.label)))
        names[name] = ({n for n in own if n}, {normalize(s) for s in SYNONYMS[kind].get(name, [])} - {""})
    return names


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def _score(header: str, own: set[str], synonyms: set[str]) -> tuple[int, str]:
    if header in own:
        return 100, EXACT
    if header in synonyms:
        return 95, SYNONYM
    best = (0, "")
    for candidate in own | synonyms:
        shortest = 2 if _is_cjk(candidate) else 4
        if len(candidate) >= shortest and len(header) >= shortest and (candidate in header or header in candidate):
            score = 60 + int(25 * min(len(candidate), len(header)) / max(len(candidate), len(header)))
            best = max(best, (score, CONTAINS))
        ratio = difflib.SequenceMatcher(None, header, candidate).ratio()
        if ratio >= 0.82:
            best = max(best, (int(ratio * 80), SIMILAR))
    return best


def columns_match(kind: str, header: list[str]) -> dict[str, Match]:
    """Our fields -> the column each most likely is (best scores first, each column used once)."""
    names = _names(kind)
    order = list(names)
    candidates = []
    for column in dict.fromkeys(c for c in header if c.strip()):
        key = normalize(column)
        for name, (own, synonyms) in names.items():
            score, how = _score(key, own, synonyms)
            if score:
                candidates.append((score, -order.index(name), name, column, how))
    matches: dict[str, Match] = {}
    used: set[str] = set()
    for score, _priority, name, column, how in sorted(candidates, reverse=True):
        if name not in matches and column not in used:
            matches[name] = Match(name, column, score, how)
            used.add(column)
    for name, other in FALLBACKS.get(kind, {}).items():
        if name not in matches and other in matches:
            matches[name] = Match(name, matches[other].column, 50, SHARED)
    return matches


def _samples(table: Table, column: str) -> list[str]:
    index = table.column_index(column)
    if index is None:
        return []
    values = (cells[index].strip() for _n, cells in table.rows[:SAMPLE_ROWS] if index < len(cells))
    return [value for value in values if value]


def date_format_guess(table: Table, columns: list[str]) -> str | None:
    """The first format that reads every sampled date of these columns, or None."""
    samples = [value for column in columns for value in _samples(table, column)]
    if not samples:
        return None
    for date_format in DATE_FORMATS:
        try:
            for value in samples:
                date_parse(value, date_format, excel=table.excel)
        except CellError:
            continue
        return date_format
    return None


def decimal_separator_guess(table: Table, columns: list[str]) -> str | None:
    samples = [value for column in columns for value in _samples(table, column)]
    for separator in (".", ","):
        try:
            for value in samples:
                amount_parse(value, separator, allow_zero=True, rounding=4)
        except CellError:
            continue
        return separator
    return None


def mapping_suggest(kind: str, table: Table, *, default_currency: str = "") -> Suggestion:
    """A complete first mapping for this file: matched columns, date format, decimal separator, and
    the organization's base currency when no column holds the currency."""
    matches = columns_match(kind, table.header)
    specs = fields_for(kind)
    columns = {name: ColumnSpec(column=match.column) for name, match in matches.items()}
    dates = [m.column for name, m in matches.items() if specs[name].type == FieldType.DATE]
    amounts = [m.column for name, m in matches.items() if specs[name].type == FieldType.AMOUNT]
    mapping = Mapping(
        kind=kind, columns=columns,
        date_format=date_format_guess(table, dates) or "%Y-%m-%d",
        decimal_separator=decimal_separator_guess(table, amounts) or ".",
        default_currency="" if "currency" in matches else default_currency,
    )
    return Suggestion(mapping=mapping, matches=matches)
