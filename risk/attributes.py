"""What training knows about each attribute: the risk trend to enforce when binning it, and the
reason an applicant is given when it costs them points (English and Chinese)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AttributeKnowledge:
    # optbinning's monotonic_trend for the bad rate: "ascending" (more → riskier),
    # "descending" (more → safer), "auto" (let the data choose; used where a U shape is
    # plausible), None for categories (bins are ordered by bad rate).
    trend: str | None
    code: str
    en: str
    zh: str


KNOWLEDGE: dict[str, AttributeKnowledge] = {
    "age": AttributeKnowledge(
        "auto", "age_band",
        "Applicants of your age have a higher rate of missed payments in our experience.",
        "您所在年龄段的历史逾期率较高。"),
    "monthly_income": AttributeKnowledge(
        "descending", "low_income",
        "Your monthly income is lower than that of most approved applicants.",
        "您的月收入低于多数获批申请人。"),
    "employment_months": AttributeKnowledge(
        "descending", "short_employment",
        "You have been in your current job for a short time.",
        "您在当前单位的工作时间较短。"),
    "housing": AttributeKnowledge(
        None, "housing_status",
        "Your housing situation scores lower than owning your home.",
        "您的住房情况评分低于自有住房。"),
    "existing_monthly_debt": AttributeKnowledge(
        "ascending", "high_existing_debt",
        "Your existing monthly debt payments are high.",
        "您现有的月还款额较高。"),
    "debt_to_income": AttributeKnowledge(
        "ascending", "high_debt_to_income",
        "Your existing monthly debt payments are high compared with your income.",
        "您现有的月还款额占收入比例较高。"),
    "marital_status": AttributeKnowledge(
        None, "marital_status",
        "Your household situation scores lower in our experience.",
        "根据历史经验，您的家庭情况评分较低。"),
    "employment_type": AttributeKnowledge(
        None, "employment_type",
        "Your type of employment has a higher rate of missed payments in our experience.",
        "根据历史经验，您的就业类型逾期率较高。"),
    "monthly_expenses": AttributeKnowledge(
        "ascending", "high_expenses",
        "Your monthly expenses are high.",
        "您的月支出较高。"),
    "assets": AttributeKnowledge(
        "descending", "low_assets",
        "Your savings and other assets are low.",
        "您的存款及其他资产较少。"),
    "dependents": AttributeKnowledge(
        "auto", "dependents",
        "The number of people who depend on you scores lower in our experience.",
        "根据历史经验，您的供养人数评分较低。"),
    "delinquencies_24m": AttributeKnowledge(
        "ascending", "recent_delinquencies",
        "Your credit report shows late payments in the last 24 months.",
        "您的征信报告显示近24个月有逾期记录。"),
    "worst_dpd": AttributeKnowledge(
        "ascending", "serious_past_due",
        "Your most serious late payment was many days overdue.",
        "您历史上最严重的一次逾期天数较长。"),
    "inquiries_6m": AttributeKnowledge(
        "ascending", "many_credit_inquiries",
        "You have applied for credit many times in the last 6 months.",
        "您近6个月的信贷审批查询次数较多。"),
    "revolving_utilisation": AttributeKnowledge(
        "ascending", "high_utilisation",
        "You are using a large share of your revolving credit (cards, overdrafts).",
        "您的循环额度（信用卡、透支）使用率较高。"),
    "credit_history_months": AttributeKnowledge(
        "descending", "short_credit_history",
        "Your credit history is short.",
        "您的信用记录时间较短。"),
    "ltv": AttributeKnowledge(
        "ascending", "high_ltv",
        "The loan is large compared with the car's price.",
        "贷款金额占车价比例较高。"),
    "term_months": AttributeKnowledge(
        "ascending", "long_term",
        "The loan term is long.",
        "贷款期限较长。"),
    "down_payment_ratio": AttributeKnowledge(
        "descending", "low_down_payment",
        "The down payment is small.",
        "首付比例较低。"),
    "vehicle_type": AttributeKnowledge(
        None, "vehicle_type",
        "Loans for this type of car have a higher rate of missed payments in our experience.",
        "根据历史经验，此类车辆的贷款逾期率较高。"),
}  # fmt: skip
