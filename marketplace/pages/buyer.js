// The buyer's page: log in or register, apply with consent, see the pre-approval and its
// offers, and quote a car on it.
"use strict";

(() => {
  const {
    lang, ready, t, label, api, login, logout, token, money, toFen, day, el, table, facts, onSubmit,
    fillBrands, offerColumns,
  } = Autofin;
  const $ = (id) => document.getElementById(id);
  let preapprovalId = null;

  function showSignedIn(signedIn) {
    $("account").hidden = signedIn;
    $("logout").hidden = !signedIn;
    $("apply").hidden = !signedIn;
  }

  function showApplication(application) {
    $("decision").hidden = false;
    const preapproval = application.preapproval;
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
    if (preapproval) {
      preapprovalId = preapproval.id;
      $("offers").append(el("h2", t("buyer.offers_heading")), table(preapproval.offers, offerColumns));
      fillBrands($("brand-list")).catch(() => {});
      $("quote").hidden = false;
      $("apply").hidden = true;
    }
  }

  async function showLatest() {
    const page = await api("GET", "/v1/buyer/applications?limit=1");
    if (page.items.length) showApplication(page.items[0]);
  }

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

  async function signedIn() {
    showSignedIn(true);
    await showLatest();
    await showConsents();
  }

  onSubmit($("login-form"), async (data) => {
    await login(data.get("email"), data.get("password"));
    await signedIn();
  });

  // The phone is proven by a texted code. In development the sandbox keeps the codes it would
  // have sent, and the page shows the newest (POST /v1/dev/sms answers 404 in production).
  $("send-code").addEventListener("click", async () => {
    const form = $("register-form");
    const error = form.querySelector(".error");
    error.textContent = "";
    const phone = form.elements.phone.value;
    try {
      await api("POST", "/v1/auth/sms-codes", { phone, purpose: "register" });
    } catch (failure) {
      error.textContent = failure.message;
      return;
    }
    $("send-code").textContent = t("buyer.code_sent");
    const sent = await api("POST", "/v1/dev/sms", { phone }).catch(() => []);
    const latest = sent.find((message) => message.purpose === "register");
    if (latest) {
      $("dev-sms").textContent = t("buyer.dev_sms", { code: latest.code });
      $("dev-sms").hidden = false;
    }
  });

  onSubmit($("register-form"), async (data) => {
    const body = Object.fromEntries(["full_name", "phone", "sms_code", "email", "password"].map((k) => [k, data.get(k)]));
    await api("POST", "/v1/auth/register", body);
    await login(body.email, body.password);
    await signedIn();
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
  });

  onSubmit($("quote-form"), async (data) => {
    const quote = await api("POST", `/v1/buyer/preapprovals/${preapprovalId}/quotes`, {
      car_price: toFen(data.get("car_price")),
      down_payment: toFen(data.get("down_payment")),
      term_months: Number(data.get("term_months")),
      vehicle_type: data.get("vehicle_type"),
      brand: data.get("brand") || null,
    });
    const parts = [];
    if (quote.grade) {
      const summary = lang === "en" ? quote.grade.summary : quote.grade.summary_zh;
      parts.push(el("p", t("buyer.car_grade", { summary }), { id: "car-grade" }));
    }
    parts.push(table(quote.offers, offerColumns));
    if (quote.not_offered.length) {
      parts.push(el("h2", t("buyer.not_offered_heading")));
      parts.push(table(quote.not_offered, [["offer.lender", (o) => o.lender], ["offer.product", (o) => o.product], ["buyer.why", (o) => o.message]]));
    }
    $("quote-offers").replaceChildren(...parts);
  });

  $("logout").addEventListener("click", () => { logout(); location.reload(); });
  ready.then(() => {
    if (token()) signedIn().catch(() => { logout(); showSignedIn(false); });
    else showSignedIn(false);
  });
})();
