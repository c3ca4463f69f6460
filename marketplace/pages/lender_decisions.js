// The lender's decision queue: deals on products that do not auto-fund, the clock due soonest
// first; approve, approve with conditions (stipulations with due dates), counter-offer (never
// above max_counter_rate) or decline with reasons; then review the uploaded stipulations.
// One entry point: AutofinLenderDecisions.mount(container, Autofin), called by the lender console
// (lender.js) into its #decisions section.
// Rendered with textContent only (Autofin.el), never innerHTML.
"use strict";

const AutofinLenderDecisions = (() => {
  const STIPULATIONS = ["id_card", "driving_licence", "proof_of_income", "bank_statements", "vehicle_invoice"];
  const STATUSES = ["decision_required", "conditions", "countered", "approved", "declined"];

  async function openDocument(A, dealId, documentId) {
    const response = await fetch(`/v1/lender/deals/${dealId}/documents/${documentId}`, {
      headers: { Authorization: `Bearer ${A.token()}`, "Accept-Language": A.lang },
    });
    if (!response.ok) throw new Error(response.statusText);
    window.open(URL.createObjectURL(await response.blob()), "_blank", "noopener");
  }

  function input(A, key, attrs) {
    const label = A.el("label", A.t(key));
    label.append(A.el("input", undefined, attrs));
    return label;
  }

  function decisionForms(A, deal, refresh, error) {
    const box = A.el("div", undefined, { class: "decision-forms" });
    async function send(body) {
      error.textContent = "";
      try { await A.api("POST", `/v1/lender/deals/${deal.id}/decision`, body); await refresh(); } catch (failure) {
        error.textContent = failure.message;
      }
    }
    const approve = A.el("button", A.t("queue.approve"), { type: "button", class: "approve" });
    approve.onclick = () => send({ decision: "approve" });
    box.append(approve);

    const conditions = A.el("form", undefined, { class: "conditions-form" });
    for (const type of STIPULATIONS) {
      const label = A.el("label", A.label("stipulation", type));
      label.prepend(A.el("input", undefined, { type: "checkbox", name: "type", value: type }));
      conditions.append(label);
    }
    conditions.append(input(A, "queue.due", { type: "date", name: "due" }),
      A.el("button", A.t("queue.conditions"), { type: "submit" }));
    conditions.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(conditions);
      const due = data.get("due") ? new Date(`${data.get("due")}T18:00:00+08:00`).toISOString() : undefined;
      send({ decision: "conditions", stipulations: data.getAll("type").map((type) => ({ type, due_at: due })) });
    });

    const counter = A.el("form", undefined, { class: "counter-form" });
    counter.append(
      input(A, "queue.amount", { name: "amount", type: "number", step: "0.01", min: "0", value: String(deal.principal / 100) }),
      input(A, "queue.term", { name: "term", type: "number", min: "1", max: "84", value: String(deal.term_months) }),
      input(A, "queue.rate", { name: "rate", type: "number", step: "0.0001", min: "0", value: String(deal.max_counter_rate) }),
      A.el("small", A.t("queue.max_rate", { rate: A.percent(deal.max_counter_rate) })),
      A.el("button", A.t("queue.counter"), { type: "submit" }),
    );
    counter.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(counter);
      send({ decision: "counter", counter: {
        amount: A.toFen(data.get("amount")), term_months: Number(data.get("term")), annual_rate: String(data.get("rate")),
      } });
    });

    const decline = A.el("form", undefined, { class: "decline-form" });
    decline.append(input(A, "queue.reasons", { name: "reasons", required: "" }),
      A.el("button", A.t("queue.decline"), { type: "submit", class: "secondary" }));
    decline.addEventListener("submit", (event) => {
      event.preventDefault();
      const reasons = String(new FormData(decline).get("reasons")).split(/[;；,，]/).map((r) => r.trim()).filter(Boolean);
      send({ decision: "decline", reasons });
    });
    box.append(conditions, counter, decline);
    return box;
  }

  function stipulationReview(A, deal, refresh, error) {
    const box = A.el("div", undefined, { class: "stipulation-review" });
    for (const s of deal.decision.stipulations) {
      const row = A.el("div", undefined, { class: "stipulation" });
      row.dataset.type = s.type;
      row.append(A.el("span", `${A.label("stipulation", s.type)} · ${A.label("stipulation_status", s.status)}`
        + (s.overdue ? ` · ${A.t("queue.overdue")}` : "")));
      if (s.document_id) {
        const view = A.el("button", A.t("queue.view"), { type: "button", class: "secondary" });
        view.onclick = () => openDocument(A, deal.id, s.document_id).catch((f) => { error.textContent = f.message; });
        row.append(view);
      }
      if (s.status !== "satisfied") {
        const review = async (body) => {
          error.textContent = "";
          try { await A.api("POST", `/v1/lender/deals/${deal.id}/stipulations/${s.id}`, body); await refresh(); } catch (f) {
            error.textContent = f.message;
          }
        };
        const ok = A.el("button", A.t("queue.satisfied"), { type: "button", class: "satisfy" });
        ok.onclick = () => review({ status: "satisfied" });
        row.append(ok);
        if (s.status === "submitted") {
          const reason = A.el("input", undefined, { placeholder: A.t("queue.reason") });
          const reject = A.el("button", A.t("queue.reject"), { type: "button", class: "secondary" });
          reject.onclick = () => review({ status: "rejected", reason: reason.value || undefined });
          row.append(reason, reject);
        }
      }
      box.append(row);
    }
    return box;
  }

  function dealCard(A, deal, refresh) {
    const d = deal.decision;
    const card = A.el("article", undefined, { class: "queue-deal" });
    card.dataset.dealId = deal.id;
    const error = A.el("p", undefined, { class: "error" });
    card.append(
      A.el("h3", `${deal.make} ${deal.model} · ${deal.buyer_name_masked} · ${deal.dealer_name}`),
      A.facts([
        ["queue.status", A.label("lender_decision", d.status), "decision-status"],
        ["queue.due_at", d.due_at ? A.moment(d.due_at) : "—", d.overdue ? "overdue" : ""],
        ["queue.grade", deal.grade],
        ["queue.car_price", A.money(deal.car_price)],
        ["queue.amount", A.money(deal.principal)],
        ["queue.ltv", A.percent(deal.ltv)],
        ["queue.term", deal.term_months],
        ["queue.rate", A.percent(deal.annual_rate)],
        ["queue.apr", A.percent(deal.apr)],
      ]),
    );
    if (d.status === "decision_required" && deal.status === "confirmed") card.append(decisionForms(A, deal, refresh, error));
    if (d.stipulations.length) card.append(stipulationReview(A, deal, refresh, error));
    card.append(error);
    return card;
  }

  function mount(container, A) {
    const list = A.el("div", undefined, { class: "queue-deals" });
    const error = A.el("p", undefined, { class: "error" });
    const filter = A.el("select", undefined, { name: "status" });
    for (const status of STATUSES) filter.append(A.el("option", A.label("lender_decision", status), { value: status }));
    async function refresh() {
      error.textContent = "";
      if (!A.token()) { list.replaceChildren(); return; }
      try {
        const page = await A.api("GET", `/v1/lender/deals?status=${filter.value}&limit=50`);
        list.replaceChildren(...page.items.map((deal) => dealCard(A, deal, refresh)));
        if (!page.items.length) list.append(A.el("p", A.t("queue.empty")));
      } catch (failure) { error.textContent = failure.message; }
    }
    filter.onchange = refresh;
    const reload = A.el("button", A.t("queue.refresh"), { type: "button", class: "secondary" });
    reload.onclick = refresh;
    const filterLabel = A.el("label", A.t("queue.filter"));
    filterLabel.append(filter);
    container.replaceChildren(A.el("h2", A.t("queue.heading")), filterLabel, reload, list, error);
    A.ready.then(refresh);
    return { refresh };
  }

  return { mount };
})();
