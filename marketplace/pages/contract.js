// The buyer's side of a deal that waits for its lender: answer a counter-offer, read the loan
// contract (the PDF itself, with the SHA-256 of exactly those bytes) and sign it with a one-time
// code to the account's phone. One entry point: AutofinContract.mount(container, Autofin).
// Rendered with textContent only (Autofin.el), never innerHTML.
"use strict";

const AutofinContract = (() => {
  async function hex(buffer) {
    const digest = await crypto.subtle.digest("SHA-256", buffer);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // The PDF as the buyer will see it: its bytes (for the viewer) and their hash (to sign).
  async function fetchContract(A, loanId) {
    const response = await fetch(`/v1/buyer/loans/${loanId}/contract`, {
      headers: { Authorization: `Bearer ${A.token()}`, "Accept-Language": A.lang },
    });
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      throw new Error((data.error && data.error.message) || response.statusText);
    }
    const bytes = await response.arrayBuffer();
    return { url: URL.createObjectURL(new Blob([bytes], { type: "application/pdf" })), sha256: await hex(bytes) };
  }

  function counterBox(A, deal, refresh) {
    const offer = deal.decision.counter_offer;
    const box = A.el("div", undefined, { class: "counter-offer" });
    box.append(
      A.el("h3", A.t("contract.counter_offer")),
      A.facts([
        ["contract.amount", A.money(offer.amount)],
        ["contract.term", A.t("contract.months", { n: offer.term_months })],
        ["contract.rate", A.percent(offer.annual_rate)],
        ["contract.apr", A.percent(offer.apr), "apr"],
        ["contract.monthly", A.money(offer.monthly_payment)],
      ]),
    );
    const error = A.el("p", undefined, { class: "error" });
    for (const [key, accept] of [["contract.accept", true], ["contract.decline", false]]) {
      const button = A.el("button", A.t(key), { type: "button", class: accept ? "" : "secondary" });
      button.dataset.answer = accept ? "accept" : "decline";
      button.onclick = async () => {
        error.textContent = "";
        try {
          await A.api("POST", `/v1/buyer/deals/${deal.id}/counter-offer`, { accept });
          await refresh();
        } catch (failure) { error.textContent = failure.message; }
      };
      box.append(button);
    }
    box.append(error);
    return box;
  }

  function signBox(A, deal, refresh) {
    const box = A.el("div", undefined, { class: "contract-sign" });
    const error = A.el("p", undefined, { class: "error" });
    const hash = A.el("code", "", { class: "contract-sha" });
    const open = A.el("a", A.t("contract.open"), { target: "_blank", rel: "noopener", class: "contract-open" });
    let seen = null;
    const load = A.el("button", A.t("contract.review"), { type: "button", class: "contract-review" });
    load.onclick = async () => {
      error.textContent = "";
      try {
        seen = await fetchContract(A, deal.loan_id);
        open.href = seen.url;
        hash.textContent = seen.sha256;
        form.hidden = false;
      } catch (failure) { error.textContent = failure.message; }
    };
    const form = A.el("form", undefined, { class: "contract-sign-form" });
    form.hidden = true;
    const code = A.el("input", undefined, {
      name: "sms_code", inputmode: "numeric", autocomplete: "one-time-code", required: "", maxlength: "12",
    });
    const phone = A.el("input", undefined, { name: "phone", type: "tel", autocomplete: "tel", maxlength: "20" });
    const send = A.el("button", A.t("contract.send_code"), { type: "button", class: "secondary" });
    send.onclick = async () => {
      error.textContent = "";
      try {
        await A.api("POST", "/v1/auth/sms-codes", { phone: phone.value, purpose: "sign" });
        send.textContent = A.t("contract.code_sent");
      } catch (failure) { error.textContent = failure.message; }
    };
    const phoneLabel = A.el("label", A.t("contract.phone"));
    phoneLabel.append(phone);
    const label = A.el("label", A.t("contract.code"));
    label.append(code);
    form.append(phoneLabel, send, label, A.el("button", A.t("contract.sign"), { type: "submit" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      try {
        await A.api("POST", `/v1/buyer/loans/${deal.loan_id}/contract/sign`, {
          sms_code: code.value, sha256: seen.sha256,
        });
        await refresh();
      } catch (failure) { error.textContent = failure.message; }
    });
    box.append(A.el("p", A.t("contract.review_hint")), load, open, A.el("p", A.t("contract.sha")), hash, form, error);
    return box;
  }

  function dealCard(A, deal, refresh) {
    const card = A.el("article", undefined, { class: "contract-deal" });
    card.dataset.dealId = deal.id;
    const d = deal.decision;
    card.append(
      A.el("h3", `${deal.make} ${deal.model} · ${deal.lender_name}`),
      A.facts([
        ["contract.status", A.label("lender_decision", d.status), "decision-status"],
        ["contract.amount", A.money(deal.principal)],
        ["contract.term", A.t("contract.months", { n: deal.term_months })],
        ["contract.apr", A.percent(deal.apr), "apr"],
        ["contract.monthly", A.money(deal.monthly_payment)],
        ["contract.signed", d.contract_signed_at ? A.moment(d.contract_signed_at) : A.t("contract.not_signed")],
      ]),
    );
    if (d.reasons.length) card.append(A.el("p", `${A.t("contract.reasons")}: ${d.reasons.join("；")}`));
    if (d.status === "countered" && deal.status === "confirmed") card.append(counterBox(A, deal, refresh));
    const signable = ["conditions", "approved"].includes(d.status);
    if (deal.status === "confirmed" && signable && !d.contract_signed_at) card.append(signBox(A, deal, refresh));
    if (d.handover_waits_for.length) {
      card.append(A.el("p", `${A.t("contract.waits_for")}: ${d.handover_waits_for.map((w) => A.label("waits", w)).join("、")}`));
    }
    return card;
  }

  function mount(container, A) {
    const list = A.el("div", undefined, { class: "contract-deals" });
    const error = A.el("p", undefined, { class: "error" });
    async function refresh() {
      error.textContent = "";
      if (!A.token()) { list.replaceChildren(); return; }
      try {
        const page = await A.api("GET", "/v1/buyer/deals?limit=20");
        list.replaceChildren(...page.items.map((deal) => dealCard(A, deal, refresh)));
        container.hidden = page.items.length === 0;
      } catch (failure) { error.textContent = failure.message; }
    }
    const reload = A.el("button", A.t("contract.refresh"), { type: "button", class: "secondary" });
    reload.onclick = refresh;
    container.replaceChildren(A.el("h2", A.t("contract.heading")), reload, list, error);
    // The page around this logs in by itself and announces the account it let in (a login, or a
    // session resumed at load): the list is loaded then, for a buyer only.
    A.onSession((account) => (account.role === "buyer" ? refresh() : undefined));
    return { refresh };
  }

  return { mount };
})();

document.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("autofin-contract");
  // Mounted once the page's strings are loaded, so its headings are in the reader's language.
  if (container) Autofin.ready.then(() => AutofinContract.mount(container, Autofin));
});
