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

  async function signedIn() {
    showSignedIn(true);
    await showLatest();
  }

  onSubmit($("login-form"), async (data) => {
    await login(data.get("email"), data.get("password"));
    await signedIn();
  });

  onSubmit($("register-form"), async (data) => {
    const body = Object.fromEntries(["full_name", "phone", "email", "password"].map((k) => [k, data.get(k)]));
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
      consent: { bureau_pull: data.get("consent") === "on" },
    });
    showApplication(application);
  });

  onSubmit($("quote-form"), async (data) => {
    const quote = await api("POST", `/v1/buyer/preapprovals/${preapprovalId}/quotes`, {
      car_price: toFen(data.get("car_price")),
      down_payment: toFen(data.get("down_payment")),
      term_months: Number(data.get("term_months")),
      vehicle_type: data.get("vehicle_type"),
      brand: data.get("brand") || null,
    });
    const parts = [table(quote.offers, offerColumns)];
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
