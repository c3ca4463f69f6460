// The dealer portal: look an approval up with the buyer's code and phone digits, quote a real
// car on one of its offers, confirm at handover (once, with an Idempotency-Key kept per deal so
// a double click or a retry never confirms twice), and follow the pipeline.
"use strict";

(() => {
  const { api, login, logout, token, money, toFen, percent, el, table, facts, onSubmit, offerColumns } = Autofin;
  const $ = (id) => document.getElementById(id);
  let lookup = null;
  let deal = null;

  function confirmKey(dealId) {
    const name = `autofin.confirm.${dealId}`;
    let key = sessionStorage.getItem(name);
    if (!key) { key = crypto.randomUUID(); sessionStorage.setItem(name, key); }
    return key;
  }

  function showSignedIn(signedIn) {
    $("account").hidden = signedIn;
    for (const id of ["logout", "lookup", "pipeline"]) $(id).hidden = !signedIn;
  }

  async function showPipeline() {
    const page = await api("GET", "/v1/dealer/deals?limit=50");
    $("deals").replaceChildren(table(page.items, [
      ["Created 创建", (d) => new Date(d.created_at).toLocaleString("zh-CN")],
      ["Buyer 购车人", (d) => d.buyer_name_masked],
      ["Car 车辆", (d) => `${d.vehicle.make} ${d.vehicle.model}`],
      ["Loan 贷款", (d) => money(d.quote.amount), "num"],
      ["Down payment 首付", (d) => `${money(d.down_payment)} (${d.down_payment_status})`, "num"],
      ["Status 状态", (d) => d.status],
    ]));
  }

  onSubmit($("login-form"), async (data) => {
    const me = await login(data.get("email"), data.get("password"));
    if (me.role !== "dealer") { logout(); throw new Error("This login is not a dealer's. 非经销商账号。"); }
    showSignedIn(true);
    await showPipeline();
  });

  onSubmit($("lookup-form"), async (data) => {
    lookup = { code: data.get("code"), verifier: data.get("verifier") };
    const approval = await api("POST", "/v1/dealer/lookups", lookup);
    $("approval").replaceChildren(
      facts([
        ["Buyer 购车人", approval.buyer_name_masked],
        ["Grade 等级", approval.grade],
        ["Credit limit 额度", money(approval.credit_limit)],
        ["Status 状态", approval.status],
        ["Expires 有效期至", new Date(approval.expires_at).toLocaleDateString("zh-CN")],
      ]),
      table(approval.offers, offerColumns),
    );
    $("offer-select").replaceChildren(
      ...approval.offers.map((o) => el("option", `${o.rank}. ${o.lender} · ${o.product} · ${percent(o.annual_rate)}`, { value: o.offer_id })),
    );
    $("deal").hidden = false;
    $("confirm-form").hidden = true;
    $("quote").replaceChildren();
    $("confirmed").replaceChildren();
  });

  onSubmit($("deal-form"), async (data) => {
    deal = await api("POST", "/v1/dealer/deals", {
      ...lookup,
      vehicle: {
        vin: data.get("vin").trim().toUpperCase(),
        make: data.get("make"),
        model: data.get("model"),
        vehicle_type: data.get("vehicle_type"),
        price: toFen(data.get("price")),
      },
      down_payment: toFen(data.get("down_payment")),
      term_months: Number(data.get("term_months")),
      offer_id: data.get("offer_id"),
    });
    const quote = deal.quote;
    $("quote").replaceChildren(facts([
      ["Loan 贷款金额", money(quote.amount)],
      ["Monthly 月供", money(quote.monthly_payment)],
      ["Rate 年利率", percent(quote.annual_rate)],
      ["Grade 等级", quote.car_grade ? `${quote.car_grade.summary_zh} · ${quote.car_grade.summary}` : quote.grade],
      ["APR 年化", percent(quote.apr)],
      ["Total cost 总成本", money(quote.total_cost)],
    ]));
    $("confirm-form").hidden = false;
    await showPipeline();
  });

  onSubmit($("confirm-form"), async () => {
    const answer = await api("POST", `/v1/dealer/deals/${deal.id}/confirm`, { identity_verified: true }, { idempotencyKey: confirmKey(deal.id) });
    $("confirm-form").hidden = true;
    $("confirmed").replaceChildren(facts([
      ["Deal 状态", answer.deal.status],
      ["Loan 贷款编号", answer.loan_id],
      ["Down payment due 待付首付", money(answer.down_payment.amount)],
      ["Payment 支付单", answer.down_payment.payment_intent_id],
    ]));
    await showPipeline();
  });

  $("refresh").addEventListener("click", () => showPipeline());
  $("logout").addEventListener("click", () => { logout(); location.reload(); });
  if (token()) showPipeline().then(() => showSignedIn(true)).catch(() => { logout(); showSignedIn(false); });
  else showSignedIn(false);
})();
