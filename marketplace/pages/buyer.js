// The buyer's page: log in or register, apply with consent, see the pre-approval and its
// offers, and quote a car on it.
"use strict";

(() => {
  const { api, login, logout, token, money, toFen, el, table, facts, onSubmit, offerColumns } = Autofin;
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
    const pairs = [["Decision 结果", application.decision], ["Grade 等级", application.grade || "—"]];
    if (preapproval) {
      pairs.push(
        ["Approval code 审批码", preapproval.code, "code"],
        ["Credit limit 额度", money(preapproval.credit_limit)],
        ["Status 状态", preapproval.status],
        ["Expires 有效期至", new Date(preapproval.expires_at).toLocaleDateString("zh-CN")],
      );
    }
    $("decision-facts").replaceChildren(facts(pairs));
    $("decision-reasons").replaceChildren(
      ...application.reasons.map((reason) => el("li", `${reason.zh} ${reason.en}`)),
    );
    $("decision-explanation").textContent = application.explanation
      ? `${application.explanation.zh} ${application.explanation.en}`
      : "";
    $("offers").replaceChildren();
    if (preapproval) {
      preapprovalId = preapproval.id;
      $("offers").append(el("h2", "Offers 贷款方案（按总成本排序）"), table(preapproval.offers, offerColumns));
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
      const lenders = consent.recipients.map((r) => r.name).join("、");
      const state = consent.withdrawn_at ? "Withdrawn 已撤回" : "In force 有效";
      item.append(
        el("strong", consent.kind === "bureau_pull" ? "Credit check 征信查询授权" : "Sharing with lenders 向贷款机构提供评估结果"),
        el("span", ` · ${consent.version} · ${state}`),
        el("p", `${consent.text.zh} ${consent.text.en}`),
      );
      if (lenders) item.append(el("p", `Lenders 贷款机构: ${lenders}`));
      if (consent.kind === "lender_sharing" && !consent.withdrawn_at) {
        const withdraw = el("button", "Withdraw 撤回", { type: "button", class: "secondary" });
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
    $("send-code").textContent = "Sent 已发送";
    const sent = await api("POST", "/v1/dev/sms", { phone }).catch(() => []);
    const latest = sent.find((message) => message.purpose === "register");
    if (latest) {
      $("dev-sms").textContent = `Development only 开发环境验证码: ${latest.code}`;
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
    if (quote.grade) parts.push(el("p", `${quote.grade.summary_zh} · ${quote.grade.summary}`, { id: "car-grade" }));
    parts.push(table(quote.offers, offerColumns));
    if (quote.not_offered.length) {
      parts.push(el("h2", "Not offered for this car 不适用的方案"));
      parts.push(table(quote.not_offered, [["Lender", (o) => o.lender], ["Product", (o) => o.product], ["Why 原因", (o) => o.message]]));
    }
    $("quote-offers").replaceChildren(...parts);
  });

  $("logout").addEventListener("click", () => { logout(); location.reload(); });
  if (token()) signedIn().catch(() => { logout(); showSignedIn(false); });
  else showSignedIn(false);
})();
