// The dealer's finance desk: look an approval up with the buyer's code and phone digits (or a
// scanned approval QR code, /dealer#code=…), decode the VIN, quote a real car on one of its
// offers (every refusal explained), confirm at handover with the ID check (once, with an
// Idempotency-Key kept per deal so a double click or a retry never confirms twice), show the
// buyer's phone a QR code of the down payment's payment page and follow it until the webhook
// hands the car over, cancel before handover, follow the pipeline (which refreshes itself) and
// submit walk-in customers. Deals waiting for their lender are on the deal desk
// (deal_documents.js, which follows the session this page announces), and the webhook settings
// (/static/webhooks.js) are mounted in #settings.
//
// Sections have ids (#lookup, #deal, #payment, #pipeline, #walk-in, #settings) so other modules
// can mount beside them.
"use strict";

(() => {
  const {
    lang, ready, t, label, api, login, me, logout, token, onSessionExpired, money, toFen, percent,
    day, moment, el, table, facts, focusOn, onSubmit, fillBrands, offerColumns, totalRepayment,
    requireRole, announceSession, every, brands,
  } = Autofin;
  const $ = (id) => document.getElementById(id);
  let lookup = null;
  let approval = null;
  let deal = null;
  let deals = [];
  let stopPipeline = null;
  let stopPayment = null;

  function idempotencyKey(purpose, dealId) {
    const name = `autofin.${purpose}.${dealId}`;
    let key = sessionStorage.getItem(name);
    if (!key) { key = crypto.randomUUID(); sessionStorage.setItem(name, key); }
    return key;
  }

  // Brand ids as the reader names them (byd → 比亚迪 / BYD), from the catalogue.
  let brandNames = {};
  function brandName(id) { return brandNames[id] || id; }
  async function loadBrands() {
    brandNames = await brands();
    await fillBrands($("brand-list"));
  }

  // -- look-up ------------------------------------------------------------------------------

  function showApproval() {
    const active = approval.status === "active";
    $("approval").replaceChildren(
      facts([
        ["common.buyer", approval.buyer_name_masked],
        ["common.grade", approval.grade],
        ["common.credit_limit", money(approval.credit_limit)],
        ["common.status", label("preapproval_status", approval.status), active ? "ok" : "bad"],
        ["common.expires", day(approval.expires_at)],
      ]),
      ...(active
        ? [el("h3", t("dealer.offers_heading")), table(approval.offers, offerColumns)]
        : [el("p", t("dealer.approval_not_usable"), { class: "callout" })]),
    );
    $("deal").hidden = !active;
  }

  onSubmit($("lookup-form"), async (data) => {
    lookup = { code: data.get("code").trim(), verifier: data.get("verifier").trim() };
    approval = await api("POST", "/v1/dealer/lookups", lookup);
    deal = null;
    showApproval();
    $("offer-select").replaceChildren(
      ...approval.offers.map((o) => el("option", `${o.lender} · ${o.product} · ${t("offer.apr")} ${percent(o.apr)}`, { value: o.offer_id })),
    );
    $("confirm-form").hidden = true;
    $("quote").replaceChildren();
    hidePayment();
    focusOn($("approval"));
  });

  // The VIN tells the make: fill it in from the catalogue when the maker builds one brand.
  $("vin").addEventListener("change", async () => {
    const vin = $("vin").value.trim().toUpperCase();
    $("vin-note").textContent = "";
    $("vin-note").className = "note";
    if (vin.length !== 17) {
      if (vin) $("vin-note").textContent = t("dealer.vin_length", { count: vin.length });
      return;
    }
    try {
      const decoded = await api("GET", `/v1/dealer/vins/${encodeURIComponent(vin)}`);
      if (!decoded.valid) {
        $("vin-note").textContent = t("dealer.vin_check_failed");
        $("vin-note").className = "note bad";
        return;
      }
      if (decoded.brand_id) $("make").value = brandName(decoded.brand_id);
      $("vin-note").textContent = t("dealer.vin_decoded", {
        manufacturer: decoded.manufacturer || "—", year: decoded.model_year || "—",
      });
    } catch (failure) {
      $("vin-note").textContent = failure.message;
    }
  });

  // -- the deal -----------------------------------------------------------------------------

  function showQuote() {
    const quote = deal.quote;
    const grade = quote.car_grade ? (lang === "en" ? quote.car_grade.summary : quote.car_grade.summary_zh) : quote.grade;
    $("quote").replaceChildren(facts([
      ["common.buyer", deal.buyer_name_masked],
      ["offer.apr", percent(quote.apr)],
      ["dealer.loan_amount", money(quote.amount)],
      ["offer.monthly", money(quote.monthly_payment)],
      ["offer.total_repayment", money(totalRepayment(quote))],
      ["offer.total_interest", money(quote.total_interest)],
      ["dealer.upfront_fee", money(quote.upfront_fee)],
      ["offer.rate", percent(quote.annual_rate)],
      ["common.grade", grade || "—"],
    ]));
    $("identity-prompt").textContent = t("dealer.check_identity", { name: deal.buyer_name_masked });
    $("confirm-form").hidden = false;
  }

  onSubmit($("deal-form"), async (data) => {
    const previous = deal && deal.status === "quoted" ? deal : null;
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
    // A new quote replaces the one before it: no orphan "quoted" deal is left behind.
    if (previous) await api("POST", `/v1/dealer/deals/${previous.id}/cancel`).catch(() => {});
    showQuote();
    await showPipeline();
    focusOn($("quote"));
  });

  $("cancel-quote").addEventListener("click", async () => {
    const error = $("confirm-form").querySelector(".error");
    error.textContent = "";
    try {
      await api("POST", `/v1/dealer/deals/${deal.id}/cancel`);
      deal = null;
      $("confirm-form").hidden = true;
      $("quote").replaceChildren(el("p", t("dealer.quote_cancelled"), { class: "status" }));
      await showPipeline();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });

  onSubmit($("confirm-form"), async (data) => {
    const answer = await api(
      "POST", `/v1/dealer/deals/${deal.id}/confirm`,
      { identity_verified: true, identity_document: data.get("identity_document") },
      { idempotencyKey: idempotencyKey("confirm", deal.id) },
    );
    deal = answer.deal;
    $("confirm-form").hidden = true;
    // The approval is used now: the look-up panel says so rather than "active".
    if (approval) { approval = { ...approval, status: "consumed" }; showApproval(); }
    await showPayment(deal);
    await showPipeline();
    // A deal on a product that waits for its lender now shows on the deal desk (deal_documents.js).
    document.dispatchEvent(new CustomEvent("autofin:deal-confirmed", { detail: deal }));
  });

  // -- the down payment: a QR code for the buyer's phone, followed until handover --------------

  function hidePayment() {
    if (stopPayment) stopPayment();
    stopPayment = null;
    $("payment").hidden = true;
  }

  function paymentState(current) {
    const node = $("payment-state");
    node.className = "status";
    if (current.status === "handed_over") {
      node.textContent = t("dealer.handed_over_now", { time: moment(current.handed_over_at) });
      node.className = "status ok";
    } else if (current.status === "cancelled") {
      node.textContent = t("dealer.deal_cancelled");
    } else if (current.down_payment_status === "failed") {
      node.textContent = t("dealer.payment_failed", { reason: (current.down_payment_failure && current.down_payment_failure.message) || "—" });
      node.className = "status bad";
    } else {
      node.textContent = t("dealer.waiting_for_payment");
    }
    $("payment-facts").replaceChildren(facts([
      ["common.buyer", current.buyer_name_masked],
      ["dealer.car", `${brandName(current.vehicle.make)} ${current.vehicle.model}`],
      ["dealer.down_payment_due", money(current.down_payment)],
      ["dealer.deal_status", label("deal_status", current.status)],
      ["common.down_payment_short", label("down_payment_status", current.down_payment_status)],
    ]));
    const open = current.status === "confirmed";
    $("cancel-deal").hidden = !open;
    $("payment-qr-box").hidden = !open;
    return open;
  }

  async function showPayment(current) {
    hidePayment();
    deal = current;
    $("payment").hidden = false;
    $("payment").querySelector(".error").textContent = "";
    if (paymentState(current)) {
      const link = await api("GET", `/v1/dealer/deals/${current.id}/payment-link`);
      $("payment-qr").src = link.qr_svg;
      $("payment-qr").alt = t("dealer.payment_qr_alt", { amount: money(link.amount) });
      $("payment-qr").hidden = false;
      $("payment-url").href = link.url;
      // Follow the deal until the webhook hands the car over (or it is cancelled).
      stopPayment = every(3, async () => {
        const fresh = await api("GET", `/v1/dealer/deals/${current.id}`);
        const changed = fresh.status !== deal.status || fresh.down_payment_status !== deal.down_payment_status;
        deal = fresh;
        if (!paymentState(fresh)) {
          stopPayment();
          stopPayment = null;
        }
        if (changed) await showPipeline();
      });
    }
    focusOn($("payment"));
  }

  $("cancel-deal").addEventListener("click", async () => {
    const error = $("payment").querySelector(".error");
    error.textContent = "";
    try {
      deal = await api("POST", `/v1/dealer/deals/${deal.id}/cancel`, undefined, { idempotencyKey: idempotencyKey("cancel", deal.id) });
      paymentState(deal);
      if (stopPayment) { stopPayment(); stopPayment = null; }
      await showPipeline();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });

  // -- the pipeline -------------------------------------------------------------------------

  function matches(d, query) {
    if (!query) return true;
    const text = [d.buyer_name_masked, d.vehicle.vin, d.vehicle.model, brandName(d.vehicle.make), d.vehicle.make]
      .join(" ").toLowerCase();
    return query.toLowerCase().split(/\s+/).every((word) => text.includes(word));
  }

  function renderPipeline() {
    const shown = deals.filter((d) => matches(d, $("search").value.trim()));
    if (!shown.length) {
      $("deals").replaceChildren(el("p", t(deals.length ? "dealer.no_match" : "dealer.no_deals"), { class: "note" }));
      return;
    }
    $("deals").replaceChildren(table(shown, [
      ["dealer.created", (d) => moment(d.created_at)],
      ["common.buyer", (d) => d.buyer_name_masked],
      ["dealer.car", (d) => `${brandName(d.vehicle.make)} ${d.vehicle.model}`],
      ["dealer.loan", (d) => money(d.quote.amount), "num"],
      ["common.down_payment_short", (d) => `${money(d.down_payment)} · ${label("down_payment_status", d.down_payment_status)}`, "num"],
      ["common.status", (d) => el("span", label("deal_status", d.status), { class: d.status === "handed_over" ? "ok" : (d.status === "cancelled" ? "" : "warn") })],
      ["dealer.actions", (d) => {
        const box = el("span", undefined, { class: "actions" });
        if (d.status === "confirmed" && ["requested", "failed"].includes(d.down_payment_status)) {
          const pay = el("button", t("dealer.show_payment_qr"), { type: "button", class: "secondary" });
          pay.addEventListener("click", () => showPayment(d).catch((failure) => { $("payment").querySelector(".error").textContent = failure.message; }));
          box.append(pay);
        }
        if (d.status === "quoted") {
          const cancel = el("button", t("dealer.cancel_quote"), { type: "button", class: "danger" });
          cancel.addEventListener("click", async () => {
            await api("POST", `/v1/dealer/deals/${d.id}/cancel`).catch(() => {});
            await showPipeline();
          });
          box.append(cancel);
        }
        return box;
      }],
    ]));
  }

  async function showPipeline() {
    const status = $("status-filter").value;
    const page = await api("GET", `/v1/dealer/deals?limit=50${status ? `&status=${status}` : ""}`);
    deals = page.items;
    renderPipeline();
    $("pipeline-updated").textContent = t("dealer.updated_at", { time: new Date().toLocaleTimeString(lang) });
  }

  $("search").addEventListener("input", renderPipeline);
  $("status-filter").addEventListener("change", () => showPipeline().catch(() => {}));
  $("refresh").addEventListener("click", () => showPipeline().catch(() => {}));

  // -- walk-ins -----------------------------------------------------------------------------

  onSubmit($("walk-in-form"), async (data) => {
    const consent = data.get("consent") === "on";
    const answer = await api("POST", "/v1/dealer/walk-ins", {
      full_name: data.get("full_name"),
      phone: data.get("phone"),
      national_id: data.get("national_id"),
      age: Number(data.get("age")),
      monthly_income: toFen(data.get("monthly_income")),
      employment_months: Number(data.get("employment_months")),
      housing: data.get("housing"),
      existing_monthly_debt: toFen(data.get("existing_monthly_debt")),
      consent: { bureau_pull: consent, share_with_lenders: consent },
    });
    const pairs = [
      ["common.buyer", answer.buyer.name_masked],
      ["buyer.mobile", answer.buyer.phone_masked],
      ["buyer.decision", label("decision", answer.decision)],
      ["common.grade", answer.grade || "—"],
    ];
    if (answer.preapproval) {
      pairs.push(["common.approval_code", answer.preapproval.code, "code"], ["common.credit_limit", money(answer.preapproval.credit_limit)]);
    }
    if (answer.claim) pairs.push(["dealer.claim_code", answer.claim.claim_code, "code"]);
    const parts = [facts(pairs)];
    if (answer.claim) parts.push(el("p", t("dealer.claim_note", { expires: moment(answer.claim.expires_at) }), { class: "callout" }));
    parts.push(el("ul", undefined, { class: "plain" }));
    for (const reason of answer.reasons) parts.at(-1).append(el("li", lang === "en" ? reason.en : reason.zh));
    $("walk-in-result").replaceChildren(...parts);
    $("walk-in-form").reset();
    focusOn($("walk-in-result"));
  });

  // -- signing in ---------------------------------------------------------------------------

  async function signedIn(account, { focus = false } = {}) {
    $("session-note").hidden = true;
    $("account").hidden = true;
    if (!requireRole(account, ["dealer"])) return;
    for (const id of ["logout", "lookup", "pipeline", "walk-in", "settings"]) $(id).hidden = false;
    announceSession(account);
    if (!$("settings").childElementCount) AutofinWebhooks.mount($("settings"), api, "dealer");
    await loadBrands().catch(() => {});
    await showPipeline();
    if (!stopPipeline) stopPipeline = every(15, showPipeline);
    // A scanned approval QR code opens /dealer#code=…: the code is filled in, the digits asked.
    const scanned = /^#code=([A-Za-z0-9]+)$/.exec(location.hash);
    if (scanned) {
      $("lookup-form").elements.code.value = scanned[1];
      $("lookup-form").elements.verifier.focus();
    } else if (focus) {
      focusOn($("lookup-heading"));
    }
  }

  onSessionExpired(() => {
    if (stopPipeline) { stopPipeline(); stopPipeline = null; }
    hidePayment();
    for (const id of ["logout", "lookup", "deal", "pipeline", "walk-in", "settings", "autofin-deal-documents"]) $(id).hidden = true;
    $("account").hidden = false;
    $("session-note").textContent = t("common.session_expired");
    $("session-note").hidden = false;
    focusOn($("login-heading"));
  });

  onSubmit($("login-form"), async (data) => {
    await signedIn(await login(data.get("email"), data.get("password")), { focus: true });
  });

  $("logout").addEventListener("click", () => { logout(); location.reload(); });
  ready.then(async () => {
    if (!token()) return;
    try {
      await signedIn(await me());
    } catch {
      logout();
      $("account").hidden = false;
    }
  });
})();
