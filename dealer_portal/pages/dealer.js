// The dealer portal: look an approval up with the buyer's code and phone digits, quote a real
// car on one of its offers, confirm at handover (once, with an Idempotency-Key kept per deal so
// a double click or a retry never confirms twice), and follow the pipeline.
"use strict";

(() => {
  const {
    lang, ready, t, label, api, login, logout, token, money, toFen, percent, day, moment, el, table,
    facts, onSubmit, fillBrands, offerColumns,
  } = Autofin;
  const $ = (id) => document.getElementById(id);
  let lookup = null;
  let deal = null;

  function confirmKey(dealId) {
    const name = `autofin.confirm.${dealId}`;
    let key = sessionStorage.getItem(name);
    if (!key) { key = crypto.randomUUID(); sessionStorage.setItem(name, key); }
    return key;
  }

  // Brand ids as the reader names them (byd → 比亚迪 / BYD), from the catalogue.
  const brands = {};
  function brandName(id) { return brands[id] || id; }
  async function loadBrands() {
    const page = await api("GET", "/v1/brands?limit=100");
    for (const brand of page.items) brands[brand.id] = lang === "en" ? brand.name_en : brand.name_zh;
    await fillBrands($("brand-list"));
  }

  // The VIN tells the make: fill it in from the catalogue when the maker builds one brand.
  $("vin").addEventListener("change", async () => {
    const vin = $("vin").value.trim().toUpperCase();
    $("vin-note").textContent = "";
    if (vin.length !== 17) return;
    try {
      const decoded = await api("GET", `/v1/dealer/vins/${encodeURIComponent(vin)}`);
      if (!decoded.valid) { $("vin-note").textContent = t("dealer.vin_check_failed"); return; }
      if (decoded.brand_id) $("make").value = brandName(decoded.brand_id);
      $("vin-note").textContent = t("dealer.vin_decoded", {
        manufacturer: decoded.manufacturer || "—", year: decoded.model_year || "—",
      });
    } catch (failure) {
      $("vin-note").textContent = failure.message;
    }
  });

  function showSignedIn(signedIn) {
    if (signedIn) loadBrands().then(() => showPipeline()).catch(() => {});
    $("account").hidden = signedIn;
    for (const id of ["logout", "lookup", "pipeline"]) $(id).hidden = !signedIn;
  }

  async function showPipeline() {
    const page = await api("GET", "/v1/dealer/deals?limit=50");
    $("deals").replaceChildren(table(page.items, [
      ["dealer.created", (d) => moment(d.created_at)],
      ["common.buyer", (d) => d.buyer_name_masked],
      ["dealer.car", (d) => `${brandName(d.vehicle.make)} ${d.vehicle.model}`],
      ["dealer.loan", (d) => money(d.quote.amount), "num"],
      ["common.down_payment_short", (d) => `${money(d.down_payment)}（${label("down_payment_status", d.down_payment_status)}）`, "num"],
      ["common.status", (d) => label("deal_status", d.status)],
    ]));
  }

  onSubmit($("login-form"), async (data) => {
    const me = await login(data.get("email"), data.get("password"));
    if (me.role !== "dealer") { logout(); throw new Error(t("dealer.not_a_dealer")); }
    showSignedIn(true);
    await showPipeline();
  });

  onSubmit($("lookup-form"), async (data) => {
    lookup = { code: data.get("code"), verifier: data.get("verifier") };
    const approval = await api("POST", "/v1/dealer/lookups", lookup);
    $("approval").replaceChildren(
      facts([
        ["common.buyer", approval.buyer_name_masked],
        ["common.grade", approval.grade],
        ["common.credit_limit", money(approval.credit_limit)],
        ["common.status", label("preapproval_status", approval.status)],
        ["common.expires", day(approval.expires_at)],
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
      ["dealer.loan_amount", money(quote.amount)],
      ["offer.monthly", money(quote.monthly_payment)],
      ["offer.rate", percent(quote.annual_rate)],
      ["common.grade", quote.car_grade ? (lang === "en" ? quote.car_grade.summary : quote.car_grade.summary_zh) : quote.grade],
      ["offer.apr", percent(quote.apr)],
      ["offer.total_cost", money(quote.total_cost)],
    ]));
    $("confirm-form").hidden = false;
    await showPipeline();
  });

  onSubmit($("confirm-form"), async () => {
    const answer = await api("POST", `/v1/dealer/deals/${deal.id}/confirm`, { identity_verified: true }, { idempotencyKey: confirmKey(deal.id) });
    $("confirm-form").hidden = true;
    $("confirmed").replaceChildren(facts([
      ["dealer.deal_status", label("deal_status", answer.deal.status)],
      ["dealer.loan_id", answer.loan_id],
      ["dealer.down_payment_due", money(answer.down_payment.amount)],
      ["dealer.payment", answer.down_payment.payment_intent_id],
    ]));
    await showPipeline();
  });

  $("refresh").addEventListener("click", () => showPipeline());
  $("logout").addEventListener("click", () => { logout(); location.reload(); });
  ready.then(() => {
    if (token()) showPipeline().then(() => showSignedIn(true)).catch(() => { logout(); showSignedIn(false); });
    else showSignedIn(false);
  });
})();
