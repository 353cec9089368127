"""Stored text the app wrote, shown in the reader's language (tenancy.retranslate, issue 14 item 10)."""

from django.template import Context, Template
from django.utils import translation

from tenancy.retranslate import retranslate

DROPPED = "%(customer)s dropped from grade %(old)s to %(new)s."


def test_an_english_message_is_shown_in_chinese_with_its_values():
    with translation.override("zh-hans"):
        assert retranslate("Milano Design S.r.l. dropped from grade D to E.", [DROPPED]) == \
            "Milano Design S.r.l. 的信用等级从 D 下调至 E。"


def test_a_chinese_message_is_shown_in_english():
    with translation.override("en"):
        assert retranslate("宁波港通物流有限公司 的信用等级从 A 下调至 B。", [DROPPED]) == \
            "宁波港通物流有限公司 dropped from grade A to B."


def test_text_a_person_typed_is_left_as_it_is():
    with translation.override("zh-hans"):
        assert retranslate("Goods as per purchase order", [DROPPED]) == "Goods as per purchase order"


def test_every_message_of_the_code_is_known_and_values_that_are_labels_are_translated():
    # the dispute's reason (Quality) is itself a label; the task title comes from dunning's run
    with translation.override("zh-hans"):
        assert retranslate("Dispute on INV-1: 2,548.00 EUR (Quality)") == "发票 INV-1 的争议：2,548.00 EUR（质量）"
        assert "致电" in retranslate("Call Milano Design S.r.l. about INV-1, INV-2")


def test_sentences_side_by_side_are_each_translated():
    text = "Open account. Provisional score: limit halved until the credit file is complete."
    with translation.override("zh-hans"):
        assert retranslate(text) == "赊销（记账交易）。 临时评分：信用档案完善前额度减半。"


def test_the_score_factors_read_in_chinese():
    template = Template("{% load credit_text %}{{ key|factor_label }}: {{ value|factor_value }}; "
                        "{{ level|role_label }}; {{ z|factor_value }}")
    context = Context({"key": "payment_days_late", "value": "12.5 d", "level": "credit_manager",
                       "z": "Z'' 4.58 (safe, 2025)"})
    with translation.override("zh-hans"):
        assert template.render(context) == "平均逾期天数: 12.5 天; 信用经理; Z&#x27;&#x27; 4.58（安全区，2025 年）"
    with translation.override("en"):
        assert template.render(context) == "Average days late: 12.5 d; Credit manager; Z&#x27;&#x27; 4.58 (safe zone, 2025)"


def test_a_read_only_choice_shows_its_name_not_its_code():
    from django import forms

    class LanguageForm(forms.Form):
        language = forms.ChoiceField(choices=[("en", "English"), ("zh-hans", "简体中文")])

    template = Template("{% load inflow_text %}{{ form.language|shown_value }}")
    assert template.render(Context({"form": LanguageForm(initial={"language": "zh-hans"})})) == "简体中文"
