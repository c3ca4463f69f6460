// The dealer's desk for deals on products that wait for the lender: the decision and its clock
// (SLA), the stipulations with their uploads, the insurance policy, what the handover still
// waits for, and the loan's funding (its open gates, then the disbursement to the dealer). One entry point: AutofinDealDocuments.mount(container, Autofin).
// Rendered with textContent only (Autofin.el), never innerHTML.
"use strict";

const AutofinDealDocuments = (() => {
  // Upload a file (multipart `file`, optional `stipulation_id`); the API checks its content.
  async function upload(A, dealId, file, stipulationId) {
    const body = new FormData();
    body.append("file", file);
    if (stipulationId) body.append("stipulation_id", stipulationId);
    const response = await fetch(`/v1/dealer/deals/${dealId}/documents`, {
      method: "POST", body, headers: { Authorization: `Bearer ${A.token()}`, "Accept-Language": A.lang },
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
    return data;
  }

  // "2 h 15 min left" / "overdue" for the lender's decision clock.
  function clock(A, decision) {
    if (!decision.due_at || !["decision_required", "countered"].includes(decision.status)) return "—";
    const minutes = Math.round((new Date(decision.due_at) - Date.now()) / 60000);
    if (minutes <= 0) return A.t("desk.overdue");
    return A.t("desk.time_left", { h: Math.floor(minutes / 60), m: minutes % 60 });
  }

  function uploader(A, dealId, stipulationId, refresh, error) {
    const input = A.el("input", undefined, { type: "file", accept: "application/pdf,image/jpeg,image/png" });
    input.dataset.stipulation = stipulationId || "";
    input.onchange = async () => {
      error.textContent = "";
      if (!input.files.length) return;
      try { await upload(A, dealId, input.files[0], stipulationId); await refresh(); } catch (failure) {
        error.textContent = failure.message;
      }
    };
    return input;
  }

  function insuranceForm(A, deal, refresh, error) {
    const form = A.el("form", undefined, { class: "insurance-form" });
    const fields = [["insurer", "desk.insurer", "text"], ["policy_number", "desk.policy_number", "text"],
      ["expires_on", "desk.expires_on", "date"], ["first_beneficiary", "desk.first_beneficiary", "text"]];
    for (const [name, key, type] of fields) {
      const label = A.el("label", A.t(key));
      label.append(A.el("input", undefined, { name, type, required: "" }));
      form.append(label);
    }
    // The lender must be the policy's first beneficiary (第一受益人) before it funds.
    form.elements.first_beneficiary.value = deal.quote.lender || "";
    const file = A.el("input", undefined, { type: "file", name: "file", accept: "application/pdf,image/jpeg,image/png", required: "" });
    const fileLabel = A.el("label", A.t("desk.policy_file"));
    fileLabel.append(file);
    form.append(fileLabel, A.el("button", A.t("desk.save_insurance"), { type: "submit" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      try {
        const document = await upload(A, deal.id, file.files[0]);
        const data = new FormData(form);
        await A.api("POST", `/v1/dealer/deals/${deal.id}/insurance`, {
          insurer: data.get("insurer"), policy_number: data.get("policy_number"),
          expires_on: data.get("expires_on"), document_id: document.id,
          first_beneficiary: data.get("first_beneficiary"),
        });
        await refresh();
      } catch (failure) { error.textContent = failure.message; }
    });
    return form;
  }

  function dealCard(A, deal, funding, refresh) {
    const d = deal.decision;
    const card = A.el("article", undefined, { class: "desk-deal" });
    card.dataset.dealId = deal.id;
    const error = A.el("p", undefined, { class: "error" });
    card.append(
      A.el("h3", `${deal.vehicle.make} ${deal.vehicle.model} · ${deal.buyer_name_masked}`),
      A.facts([
        ["desk.decision", A.label("lender_decision", d.status), "decision-status"],
        ["desk.clock", clock(A, d), d.overdue ? "overdue" : ""],
        ["desk.down_payment", A.label("down_payment_status", deal.down_payment_status)],
        ["desk.contract", d.contract_signed_at ? A.moment(d.contract_signed_at) : A.t("desk.not_signed")],
        ["desk.insurance", d.insurance ? `${d.insurance.insurer} ${d.insurance.policy_number}` : "—"],
      ]),
    );
    if (d.reasons.length) card.append(A.el("p", `${A.t("desk.reasons")}: ${d.reasons.join("；")}`));
    if (d.stipulations.length) {
      card.append(A.table(d.stipulations, [
        ["desk.stipulation", (s) => A.label("stipulation", s.type)],
        ["desk.due", (s) => A.moment(s.due_at)],
        ["desk.stipulation_status", (s) => A.label("stipulation_status", s.status)],
        ["desk.reason", (s) => s.reason || ""],
      ]));
      for (const s of d.stipulations.filter((x) => x.status !== "satisfied")) {
        const label = A.el("label", `${A.t("desk.upload_for")} ${A.label("stipulation", s.type)}`);
        label.append(uploader(A, deal.id, s.id, refresh, error));
        card.append(label);
      }
    }
    if (deal.status === "confirmed") {
      const other = A.el("label", A.t("desk.upload_other"));
      other.append(uploader(A, deal.id, null, refresh, error));
      card.append(other);
      if (!d.insurance) card.append(insuranceForm(A, deal, refresh, error));
    }
    if (d.handover_waits_for.length) {
      card.append(A.el("p", `${A.t("desk.waits_for")}: ${d.handover_waits_for.map((w) => A.label("waits", w)).join("、")}`));
    }
    if (funding) card.append(fundingFacts(A, funding));
    card.append(error);
    return card;
  }

  // The loan's way to funding: what the lender's gates still wait for, then what the dealer is paid.
  function fundingFacts(A, funding) {
    const waiting = funding.gates.filter((g) => !g.satisfied).map((g) => A.label("gate", g.name));
    const paid = funding.disbursement;
    const box = A.el("div", undefined, { class: "funding" });
    box.dataset.loanStatus = funding.loan_status || "";
    box.append(A.el("h4", A.t("desk.funding")), A.facts([
      ["desk.loan_status", A.label("loan_status", funding.loan_status)],
      ["desk.funding_waits_for", waiting.length ? waiting.join("、") : "—"],
      ["desk.disbursement", paid ? `${A.money(paid.amount)} · ${A.label("disbursement", paid.status)}` : "—", "disbursement"],
    ]));
    return box;
  }

  function mount(container, A) {
    const list = A.el("div", undefined, { class: "desk-deals" });
    const error = A.el("p", undefined, { class: "error" });
    async function refresh() {
      error.textContent = "";
      if (!A.token()) { list.replaceChildren(); return; }
      try {
        const page = await A.api("GET", "/v1/dealer/deals?limit=50");
        const waiting = page.items.filter((deal) => deal.decision);
        const funding = await Promise.all(waiting.map((deal) => (deal.loan_id
          ? A.api("GET", `/v1/dealer/deals/${deal.id}/funding`) : null)));
        list.replaceChildren(...waiting.map((deal, i) => dealCard(A, deal, funding[i], refresh)));
        container.hidden = waiting.length === 0;
      } catch (failure) { error.textContent = failure.message; }
    }
    const reload = A.el("button", A.t("desk.refresh"), { type: "button", class: "secondary" });
    reload.onclick = refresh;
    container.replaceChildren(A.el("h2", A.t("desk.heading")), reload, list, error);
    // The page around this logs in by itself and announces the account it let in (a login, or a
    // session resumed at load): the list is loaded then, for a dealer only.
    A.onSession((account) => (account.role === "dealer" ? refresh() : undefined));
    // A deal the dealer confirms on this page may be one that waits for its lender.
    document.addEventListener("autofin:deal-confirmed", () => refresh());
    return { refresh };
  }

  return { mount };
})();

document.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("autofin-deal-documents");
  // Mounted once the page's strings are loaded, so its headings are in the reader's language.
  if (container) Autofin.ready.then(() => AutofinDealDocuments.mount(container, Autofin));
});
