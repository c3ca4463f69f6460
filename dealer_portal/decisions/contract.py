"""The loan contract (汽车消费贷款合同) as a PDF in Chinese, fonts embedded.

Rendered with fpdf2 and Debian's Noto Sans CJK (``fonts-noto-cjk``: the Simplified Chinese face
of the ``.ttc`` collection, subset into the file). The bytes depend on the terms alone: the
creation date is the loan's booking time and fpdf2 writes no random file id, so every download
of an unsigned contract is the same file, and the SHA-256 the buyer signs names exactly what
they read. The APR (年化利率, the IRR of the buyer's cash flows, fees included — pricing's
``quote_loan``) is the most prominent figure, as China's disclosure rules ask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from pricing.collections import LateFeeKind, LateFeeTerms
from pricing.loan_math import ScheduleRow

FONT_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SIMPLIFIED_CHINESE = 2  # the collection's faces: JP, KR, SC, TC, HK, then the Mono ones
FONT = "noto-sans-sc"
METHODS = {"equal_installment": "等额本息", "equal_principal": "等额本金"}
VEHICLE_TYPES = {"new": "新车", "used": "二手车"}


class ContractFontMissing(RuntimeError):
    """Debian's fonts-noto-cjk is not installed (the CI's apt step and the image install it)."""


@dataclass(frozen=True)
class ContractTerms:
    contract_number: str
    issued_at: datetime
    lender: str
    dealer: str
    borrower: str
    borrower_phone_masked: str
    vin: str
    make: str
    model: str
    vehicle_type: str
    car_price: int
    down_payment: int
    principal: int
    annual_rate: Decimal
    apr: Decimal
    term_months: int
    method: str
    monthly_payment: int
    upfront_fee: int
    total_interest: int
    platform_guarantee: bool
    late_fee: LateFeeTerms  # the product's (``pricing.collections``)
    grace_days: int
    schedule: tuple[ScheduleRow, ...]
    due_dates: tuple[date, ...]
    conditions: tuple[str, ...] = field(default=())


def yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def percent(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.01'))}%"


class _Contract(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 6, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")


@lru_cache(maxsize=64)
def render(terms: ContractTerms) -> bytes:
    """The contract's PDF bytes: the same bytes for the same terms, every time (a pure
    function, so the few contracts being read and signed right now are kept rendered)."""
    if not FONT_FILE.exists():
        raise ContractFontMissing(f"{FONT_FILE} is missing: install Debian's fonts-noto-cjk")
    pdf = _Contract(format="A4")
    pdf.set_creation_date(terms.issued_at)
    pdf.set_title(f"汽车消费贷款合同 {terms.contract_number}")
    pdf.set_author("Autofin")
    pdf.set_producer("Autofin")
    pdf.add_font(FONT, fname=str(FONT_FILE), collection_font_number=SIMPLIFIED_CHINESE)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    width = pdf.epw

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font(FONT, size=12)
        pdf.cell(width, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, size=10)

    def line(label: str, value: str) -> None:
        pdf.cell(45, 6.5, label)
        pdf.multi_cell(width - 45, 6.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(text: str) -> None:
        pdf.multi_cell(width, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_font(FONT, size=18)
    pdf.cell(width, 12, "汽车消费贷款合同", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=9)
    pdf.cell(
        width,
        6,
        f"合同编号：{terms.contract_number}    生成日期：{terms.issued_at:%Y-%m-%d}",
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )

    # The APR first and largest: the figure the buyer compares loans by.
    pdf.ln(3)
    pdf.set_fill_color(255, 244, 214)
    pdf.set_font(FONT, size=12)
    pdf.cell(
        width, 9, "年化利率（APR，按内部收益率法计算，含费用）", align="C", fill=True,
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    pdf.set_font(FONT, size=30)
    pdf.cell(
        width, 16, percent(terms.apr), align="C", fill=True,
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    pdf.set_font(FONT, size=10)

    heading("一、合同各方")
    line("贷款人（甲方）", terms.lender)
    line("借款人（乙方）", f"{terms.borrower}（手机 {terms.borrower_phone_masked}）")
    line("经销商", terms.dealer)
    line("平台", "Autofin 汽车金融平台（居间服务，不放款）")

    heading("二、车辆")
    line("车辆识别代号", terms.vin)
    line(
        "品牌 / 车型", f"{terms.make} {terms.model}（{VEHICLE_TYPES.get(terms.vehicle_type, '')}）"
    )
    line("车辆价格", yuan(terms.car_price))
    line("首付款", yuan(terms.down_payment))

    heading("三、贷款")
    line("贷款金额", yuan(terms.principal))
    line("贷款期限", f"{terms.term_months} 个月")
    line("还款方式", METHODS.get(terms.method, terms.method))
    line("合同利率（年）", percent(terms.annual_rate))
    line("年化利率（APR）", percent(terms.apr))
    line("首期月供", yuan(terms.monthly_payment))
    line("利息总额", yuan(terms.total_interest))
    line("还款总额", yuan(terms.principal + terms.total_interest))

    heading("四、费用")
    line("一次性手续费", yuan(terms.upfront_fee) + "（已计入年化利率）")
    line("逾期费用", late_fee_clause(terms.late_fee, terms.grace_days))
    line("其他费用", "无。")

    heading("五、提前还款")
    paragraph(
        "乙方可随时在线提前结清全部贷款，无违约金：应付金额为未还本金、已到期未还利息、"
        "当期按日计算的应计利息及已产生的逾期费用；未到期的利息不再收取。"
    )

    heading("六、平台担保")
    paragraph(
        "本产品由平台提供担保：乙方违约时，平台按约定向甲方代偿。"
        if terms.platform_guarantee
        else "本产品无平台担保。"
    )
    if terms.conditions:
        heading("七、放款条件")
        for condition in terms.conditions:
            paragraph(f"· {condition}")

    heading("还款计划")
    pdf.set_font(FONT, size=8.5)
    columns = (
        ("期数", 14),
        ("还款日", 30),
        ("月供", 34),
        ("本金", 34),
        ("利息", 30),
        ("剩余本金", 0),
    )
    widths = [w or width - sum(c[1] for c in columns) for _, w in columns]
    for (title, _), w in zip(columns, widths, strict=True):
        pdf.cell(w, 6, title, border="B")
    pdf.ln(6)
    for row, due in zip(terms.schedule, terms.due_dates, strict=True):
        cells = (
            str(row.n), due.isoformat(), yuan(row.payment), yuan(row.principal),
            yuan(row.interest), yuan(row.balance),
        )  # fmt: skip
        for text, w in zip(cells, widths, strict=True):
            pdf.cell(w, 5.2, text)
        pdf.ln(5.2)

    pdf.set_font(FONT, size=10)
    heading("签署")
    paragraph(
        "乙方通过发送至其已验证手机的一次性验证码签署本合同，签署记录包括本合同 PDF 的 "
        "SHA-256 摘要、签署时间及手机号；本合同自乙方签署之日起生效。"
    )
    return bytes(pdf.output())


def late_fee_clause(fee: LateFeeTerms, grace_days: int) -> str:
    """The product's late fee in the contract's words (always under the legal APR cap)."""
    late = f"逾期超过 {grace_days} 天，"
    if fee.kind == LateFeeKind.flat:
        charge = f"每期收取一次逾期费 {yuan(fee.amount)}"
    elif fee.kind == LateFeeKind.percent_of_payment:
        charge = (
            f"按当期应还金额的 {percent(fee.rate)} 收取一次逾期费，每期不超过 {yuan(fee.amount)}"
        )
    else:
        charge = f"按逾期未还金额每日 {percent(fee.rate)} 计收逾期费"
    return late + charge + "；全部费用合计不使年化综合成本超过法定上限。"
