// The buyer's page, from the first visit to the last instalment: log in with a texted code (or
// register), apply with consent, see the pre-approval with its code, what the dealer will ask
// for and its QR code, compare offers for any car; after handover, the loan, its schedule,
// repayments with a saved card (taken by Stripe.js), the payoff, and the advisor.
//
// Sections have ids (#account, #apply, #decision, #quote, #loans, #card, #messages, #consents)
// so other modules can mount beside them.
"use strict";

(() => {
  const {
    lang, ready, t, label, api, login, phoneLogin, me, logout, token, onSessionExpired, sendSmsCode,
    money, toFen, day, moment, el, table, facts, focusOn, onSubmit, fillBrands, offerColumns,
    requireRole, announceSession, cardForm, brands,
  } = Autofin;
  const $ = (id) => document.getElementById(id);
  let preapproval = null;
  let loan = null;
  let savedCard = null;
  // One key per repayment the buyer asked for, kept until it is answered, so a retry after a
  // lost answer replays it instead of charging again.
  const payKeys = {};

  function show(ids, visible) { for (const id of ids) $(id).hidden = !visible; }

  function showSignedOut() {
    show(["apply", "decision", "quote", "loans", "card", "messages", "consents", "logout", "autofin-contract", "autofin-mandate"], false);
    $("account").hidden = false;
  }

  // -- the pre-approval ------------------------------------------------------------------------

  function showApplication(application) {
    $("decision").hidden = false;
    preapproval = application.preapproval;
    const pairs = [
      ["buyer.decision", label("decision", application.decision)],
      ["common.grade", application.grade || "—"],
    ];
    if (preapproval) {
      pairs.push(
        ["common.approval_code", preapproval.code, "code"],
        ["common.credit_limit", money(preapproval.credit_limit)],
        ["common.status", label("preapproval_status", preapproval.status)],
        ["common.expires", day(preapproval.expires_at)],
      );
    }
    $("decision-facts").replaceChildren(facts(pairs));
    $("decision-reasons").replaceChildren(
      ...application.reasons.map((reason) => el("li", lang === "en" ? reason.en : reason.zh)),
    );
    $("decision-explanation").textContent = application.explanation
      ? (lang === "en" ? application.explanation.en : application.explanation.zh)
      : "";
    $("offers").replaceChildren();
    const active = preapproval && preapproval.status === "active";
    $("at-the-dealer").hidden = !active;
    $("quote").hidden = !active;
    // An approval already used (or expired) never shows offers that can no longer be taken.
    $("apply").hidden = Boolean(active) || (preapproval && preapproval.status === "consumed");
    if (!preapproval) return;
    if (!active) {
      const key = preapproval.status === "consumed" ? "buyer.approval_used" : "buyer.approval_inactive";
      $("offers").append(el("p", t(key), { class: "callout" }));
      return;
    }
    $("dealer-asks").textContent = t("buyer.dealer_will_ask", { code: preapproval.code });
    api("GET", `/v1/buyer/preapprovals/${preapproval.id}/qr`).then((answer) => {
      $("approval-qr").src = answer.qr_svg;
      $("approval-qr").alt = t("buyer.qr_alt", { code: preapproval.code });
      $("approval-qr").hidden = false;
    }).catch(() => {});
    $("offers").append(
      el("h3", t("buyer.offers_heading")),
      el("p", t("buyer.offers_at_limit", { limit: money(preapproval.credit_limit) }), { class: "note" }),
      table(preapproval.offers, offerColumns),
    );
    fillBrands($("brand-list")).catch(() => {});
  }

  async function showLatest() {
    const page = await api("GET", "/v1/buyer/applications?limit=1");
    if (page.items.length) showApplication(page.items[0]);
    else $("apply").hidden = false;
  }

  // -- the loan after handover ---------------------------------------------------------------

  let brandNames = {};
  function car(l) { return `${brandNames[l.vehicle.make] || l.vehicle.make || ""} ${l.vehicle.model || ""}`.trim() || "—"; }

  function loanStatus(row) {
    if (row.status === "active" && row.days_past_due > 0) return t("buyer.days_late", { days: row.days_past_due });
    return label("loan_status", row.status);
  }

  async function showLoans() {
    const page = await api("GET", "/v1/buyer/loans?limit=20");
    if (page.items.length) brandNames = await brands();
    $("loans").hidden = page.items.length === 0;
    if (!page.items.length) return;
    if (page.items.length > 1) {
      $("loan-list").replaceChildren(table(page.items, [
        ["dealer.car", car],
        ["common.status", loanStatus],
        ["offer.monthly", (l) => money(l.monthly_payment), "num"],
        ["buyer.open", (l) => {
          const open = el("button", t("buyer.open"), { type: "button", class: "secondary" });
          open.addEventListener("click", () => showLoan(l.id).then(() => focusOn($("loan-facts"))));
          return open;
        }],
      ]));
    }
    await showLoan((loan && page.items.some((l) => l.id === loan.id)) ? loan.id : page.items[0].id);
  }

  async function showLoan(loanId) {
    loan = await api("GET", `/v1/buyer/loans/${loanId}`);
    $("loan-detail").hidden = false;
    const late = loan.days_past_due > 0;
    $("loan-facts").replaceChildren(facts([
      ["common.status", loanStatus(loan), late ? "bad" : (loan.status === "active" ? "ok" : "")],
      ["dealer.car", car(loan)],
      ["offer.lender", loan.lender.name],
      ["buyer.principal", money(loan.principal)],
      ["offer.apr", `${(Number(loan.apr) * 100).toFixed(2)}%`],
      ["offer.monthly", money(loan.monthly_payment)],
      ["buyer.next_due", loan.next_due_date ? day(loan.next_due_date) : "—"],
      ["buyer.balance", money(loan.balance)],
    ]));
    $("schedule").replaceChildren(scheduleTable(loan.schedule));
    const unpaid = loan.schedule.filter((row) => row.status !== "paid");
    const repayable = loan.status === "active" && unpaid.length > 0;
    $("pay-form").hidden = !repayable;
    $("pay-heading").hidden = !repayable;
    $("payoff").hidden = !repayable;
    const chosen = $("installments").value;
    $("installments").replaceChildren(...unpaid.slice(0, 12).map((row, index) => {
      const total = unpaid.slice(0, index + 1).reduce((sum, r) => sum + r.amount_due, 0);
      return el("option", t("buyer.installments_option", { count: index + 1, amount: money(total) }), { value: String(index + 1) });
    }));
    if ([...$("installments").options].some((option) => option.value === chosen)) $("installments").value = chosen;
    $("pay-button").disabled = !savedCard;
    $("pay-status").textContent = savedCard ? "" : t("buyer.save_card_first");
    $("card").hidden = loan.status !== "active" && !savedCard;
  }

  function scheduleTable(rows) {
    const node = table(rows, [
      ["buyer.installment_n", (r) => r.n, "num"],
      ["buyer.due_date", (r) => day(r.due_date)],
      ["buyer.installment_payment", (r) => money(r.payment), "num"],
      ["buyer.principal", (r) => money(r.principal), "num"],
      ["buyer.interest", (r) => money(r.interest), "num"],
      ["buyer.amount_due", (r) => (r.status === "paid" ? "—" : money(r.amount_due)), "num"],
      ["common.status", (r) => {
        const text = label("installment_status", r.status) + (r.late_fee ? ` · ${t("buyer.late_fee", { fee: money(r.late_fee) })}` : "");
        return el("span", text, { class: r.status === "late" ? "bad" : (r.status === "paid" ? "ok" : "") });
      }],
    ], { caption: t("buyer.schedule_caption", { count: rows.length }) });
    // The paid instalments and the next three; the rest one tap away (36 cards on a phone
    // would bury the payment form).
    const shownUpTo = rows.filter((row) => row.status === "paid").length + 3;
    node.querySelectorAll("tbody tr").forEach((tr, index) => {
      tr.classList.add(rows[index].status);
      if (index >= shownUpTo) tr.classList.add("later");
    });
    if (rows.length <= shownUpTo) return node;
    const toggle = el("button", t("buyer.show_all_instalments", { count: rows.length }), {
      type: "button", class: "secondary", "aria-expanded": "false",
    });
    toggle.addEventListener("click", () => {
      const expanded = node.classList.toggle("expanded");
      toggle.setAttribute("aria-expanded", String(expanded));
      toggle.textContent = t(expanded ? "buyer.show_fewer_instalments" : "buyer.show_all_instalments", { count: rows.length });
    });
    const box = el("div");
    box.append(node, el("p", undefined, { class: "actions" }));
    box.lastChild.append(toggle);
    return box;
  }

  // Pay the next n instalments, or the payoff, with the saved card; Stripe answers at once
  // (succeeded, or processing until its webhook), and the loan is shown again.
  async function repay(body, statusNode) {
    const which = JSON.stringify([loan.id, body]);
    payKeys[which] = payKeys[which] || crypto.randomUUID();
    statusNode.textContent = t("buyer.paying");
    const answer = await api("POST", `/v1/buyer/loans/${loan.id}/payments`, body, { idempotencyKey: payKeys[which] });
    delete payKeys[which];
    const done = answer.status === "succeeded";
    statusNode.textContent = t(done ? "buyer.paid" : "buyer.payment_processing", { amount: money(answer.amount) });
    statusNode.className = done ? "status ok" : "status";
    const message = statusNode.textContent;
    await showLoan(loan.id);
    statusNode.textContent = message;
  }

  onSubmit($("pay-form"), async (data) => {
    await repay({ installments: Number(data.get("installments")) }, $("pay-status"));
  });

  $("payoff-quote").addEventListener("click", async () => {
    const error = $("payoff-form").querySelector(".error");
    error.textContent = "";
    try {
      const quote = await api("GET", `/v1/buyer/loans/${loan.id}/payoff`);
      $("payoff-facts").replaceChildren(facts([
        ["buyer.payoff_amount", money(quote.amount)],
        ["buyer.principal", money(quote.principal)],
        ["buyer.interest", money(quote.interest)],
        ["buyer.fees", money(quote.fees)],
        ["buyer.payoff_on", day(quote.on)],
      ]));
      $("payoff-form").hidden = !savedCard;
      if (!savedCard) $("payoff-facts").append(el("p", t("buyer.save_card_first"), { class: "note" }));
    } catch (failure) {
      $("payoff-form").hidden = false;
      error.textContent = failure.message;
    }
  });

  onSubmit($("payoff-form"), async () => {
    await repay({ payoff: true }, $("payoff-status"));
    $("payoff-form").hidden = true;
    $("payoff-facts").replaceChildren();
  });

  // -- the saved card (Stripe.js) -------------------------------------------------------------

  async function showCard() {
    const page = await api("GET", "/v1/buyer/payment-methods");
    savedCard = page.items[0] || null;
    $("saved-card").textContent = savedCard
      ? t("buyer.saved_card", { brand: (savedCard.card_brand || "").toUpperCase(), last4: savedCard.card_last4 || "····" })
      : t("buyer.no_card");
  }

  let card = null;
  $("add-card").addEventListener("click", async () => {
    const form = $("card-form");
    const error = form.querySelector(".error");
    error.textContent = "";
    try {
      const setup = await api("POST", "/v1/buyer/card-setups", undefined, { idempotencyKey: crypto.randomUUID() });
      card = await cardForm($("card-element"), setup);
      form.hidden = false;
      $("add-card").hidden = true;
      const first = $("card-element").querySelector("input, iframe");
      if (first) first.focus();
    } catch (failure) {
      form.hidden = false;
      error.textContent = failure.message;
    }
  });

  onSubmit($("card-form"), async () => {
    const paymentMethod = await card.confirm();
    await api("POST", "/v1/buyer/payment-methods", { payment_method: paymentMethod });
    $("card-form").hidden = true;
    $("add-card").hidden = false;
    await showCard();
    if (loan) await showLoan(loan.id);
    $("saved-card").className = "status ok";
    focusOn($("card-heading"));
  });

  // -- the advisor -------------------------------------------------------------------------

  async function showMessages() {
    let page;
    try {
      page = await api("GET", "/v1/buyer/messages?limit=50");
    } catch (failure) {
      if (failure.code !== "no_advisor_yet") throw failure;
      $("messages").hidden = false;
      $("message-list").replaceChildren(el("li", failure.message));
      $("message-form").hidden = true;
      return;
    }
    $("messages").hidden = false;
    $("message-form").hidden = false;
    const items = [...page.items].sort((a, b) => a.sent_at.localeCompare(b.sent_at));
    $("message-list").replaceChildren(...(items.length ? items.map((m) => {
      const item = el("li", m.body, { class: m.sender === "buyer" ? "mine" : "" });
      item.append(el("small", `${t(m.sender === "buyer" ? "buyer.me" : "buyer.advisor")} · ${moment(m.sent_at)}`));
      return item;
    }) : [el("li", t("buyer.no_messages"))]));
  }

  onSubmit($("message-form"), async (data) => {
    await api("POST", "/v1/buyer/messages", { body: data.get("body") });
    $("message-form").reset();
    await showMessages();
  });

  // -- consents ------------------------------------------------------------------------------

  // What the buyer agreed to, in the words shown, and the sharing consent's withdrawal.
  async function showConsents() {
    const page = await api("GET", "/v1/buyer/consents?limit=20");
    $("consents").hidden = page.items.length === 0;
    $("consent-list").replaceChildren(...page.items.map((consent) => {
      const item = el("li");
      const lenders = consent.recipients.map((r) => r.name).join(lang === "en" ? ", " : "、");
      const state = t(consent.withdrawn_at ? "buyer.withdrawn" : "buyer.in_force");
      item.append(
        el("strong", label("consent_kind", consent.kind)),
        el("span", ` · ${consent.version} · ${state}`),
        el("p", lang === "en" ? consent.text.en : consent.text.zh),
      );
      if (lenders) item.append(el("p", t("buyer.consent_lenders", { lenders })));
      if (consent.kind === "lender_sharing" && !consent.withdrawn_at) {
        const withdraw = el("button", t("buyer.withdraw"), { type: "button", class: "secondary" });
        withdraw.addEventListener("click", async () => {
          try {
            await api("POST", `/v1/buyer/consents/${consent.id}/withdraw`);
            await showConsents();
          } catch (failure) {
            $("consents").querySelector(".error").textContent = failure.message;
          }
        });
        item.append(withdraw);
      }
      return item;
    }));
  }

  // -- signing in ----------------------------------------------------------------------------

  async function signedIn(account, { focus = false } = {}) {
    $("session-note").hidden = true;
    $("account").hidden = true;
    if (!requireRole(account, ["buyer"])) return;
    $("logout").hidden = false;
    announceSession(account);
    await showLatest();
    await showCard();
    await showLoans();
    await Promise.all([showMessages().catch(() => {}), showConsents()]);
    if (focus) focusOn(loan ? $("loans") : (preapproval ? $("decision") : $("apply")));
  }

  onSessionExpired(() => {
    showSignedOut();
    $("session-note").textContent = t("common.session_expired");
    $("session-note").hidden = false;
    focusOn($("login-heading"));
  });

  onSubmit($("phone-login-form"), async (data) => {
    await signedIn(await phoneLogin(data.get("phone"), data.get("sms_code")), { focus: true });
  });

  onSubmit($("login-form"), async (data) => {
    await signedIn(await login(data.get("email"), data.get("password")), { focus: true });
  });

  // The phone is proven by a texted code. In development the sandbox keeps the codes it would
  // have sent, and the page shows the newest (POST /v1/dev/sms answers 404 in production).
  for (const button of document.querySelectorAll(".send-code")) {
    button.addEventListener("click", async () => {
      const form = button.closest("form");
      const error = form.querySelector(".error");
      const devSms = form.querySelector(".dev-sms");
      error.textContent = "";
      try {
        const code = await sendSmsCode(form.elements.phone.value, button.dataset.purpose);
        button.textContent = t("buyer.code_sent");
        if (code) {
          devSms.textContent = t("buyer.dev_sms", { code });
          devSms.hidden = false;
        }
        form.elements.sms_code.focus();
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
  }

  onSubmit($("register-form"), async (data) => {
    const body = Object.fromEntries(["full_name", "phone", "sms_code", "email", "password"].map((k) => [k, data.get(k)]));
    await api("POST", "/v1/auth/register", body);
    await signedIn(await login(body.email, body.password), { focus: true });
  });

  onSubmit($("apply-form"), async (data) => {
    const application = await api("POST", "/v1/buyer/applications", {
      national_id: data.get("national_id"),
      age: Number(data.get("age")),
      monthly_income: toFen(data.get("monthly_income")),
      employment_months: Number(data.get("employment_months")),
      housing: data.get("housing"),
      existing_monthly_debt: toFen(data.get("existing_monthly_debt")),
      consent: { bureau_pull: data.get("consent") === "on", share_with_lenders: data.get("share") === "on" },
    });
    showApplication(application);
    await showConsents();
    await showMessages().catch(() => {});
    focusOn($("decision"));
  });

  onSubmit($("quote-form"), async (data) => {
    const carPrice = toFen(data.get("car_price"));
    const downPayment = toFen(data.get("down_payment"));
    const quote = await api("POST", `/v1/buyer/preapprovals/${preapproval.id}/quotes`, {
      car_price: carPrice,
      down_payment: downPayment,
      term_months: Number(data.get("term_months")),
      vehicle_type: data.get("vehicle_type"),
      brand: data.get("brand") || null,
    });
    const method = data.get("method");
    const offers = method ? quote.offers.filter((o) => o.method === method) : quote.offers;
    const parts = [];
    if (quote.grade) {
      const summary = lang === "en" ? quote.grade.summary : quote.grade.summary_zh;
      parts.push(el("p", t("buyer.car_grade", { summary }), { id: "car-grade" }));
    }
    if (offers.length) {
      parts.push(table(offers, offerColumns, { caption: t("buyer.quote_caption", { amount: money(carPrice - downPayment) }) }));
    } else {
      // Never an empty table: say why nothing is offered and what to change.
      const why = [];
      if (downPayment === 0) why.push(t("buyer.zero_down"));
      if (carPrice - downPayment > preapproval.credit_limit) why.push(t("buyer.over_limit", { limit: money(preapproval.credit_limit) }));
      if (method && quote.offers.length) why.push(t("buyer.no_offer_with_method", { method: label("method", method) }));
      parts.push(el("p", [t("buyer.no_offers"), ...why].join(" "), { class: "callout" }));
    }
    if (quote.not_offered.length) {
      parts.push(el("h3", t("buyer.not_offered_heading")));
      parts.push(table(quote.not_offered, [["offer.lender", (o) => o.lender], ["offer.product", (o) => o.product], ["buyer.why", (o) => o.message]]));
    }
    $("quote-offers").replaceChildren(...parts);
  });

  $("logout").addEventListener("click", () => { logout(); location.reload(); });
  ready.then(async () => {
    if (!token()) { showSignedOut(); return; }
    try {
      await signedIn(await me());
    } catch {
      logout();
      showSignedOut();
    }
  });
})();
