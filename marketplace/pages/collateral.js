// The lender console's collateral section: every funded loan's registration as the lender's
// collateral (抵押登记) with its status as a badge, the overdue ones on their own (the daily jobs
// flag a registration still owed after its due date), and the release after payoff.
//
//   AutofinLenderCollateral.mount(container, api?)
//
// Renders with textContent only (Autofin.el), never innerHTML.
"use strict";

window.AutofinLenderCollateral = (() => {
  function badge(record) {
    const { t, label, el } = Autofin;
    if (record.overdue) return el("span", t("collateral.overdue"), { class: "badge collateral-badge", "data-status": "overdue" });
    const text = record.registered_late ? `${label("collateral_status", record.status)}（${t("collateral.late")}）` : label("collateral_status", record.status);
    return el("span", text, { class: "collateral-badge", "data-status": record.status });
  }

  async function mount(container, api = Autofin.api) {
    await Autofin.ready;
    const { t, day, el, table } = Autofin;
    let overdueOnly = false;
    const filters = el("div", undefined, { class: "collateral-filters" });
    const list = el("div");
    container.replaceChildren(el("h2", t("collateral.heading")), el("p", t("collateral.lender_note"), { class: "note" }), filters, list);

    async function render() {
      const [page, overdue] = await Promise.all([
        api("GET", `/v1/lender/collateral?limit=100${overdueOnly ? "&overdue=true" : ""}`),
        api("GET", "/v1/lender/collateral?overdue=true&limit=1"),
      ]);
      const all = el("button", t("collateral.all"), { type: "button", class: overdueOnly ? "secondary" : "" });
      all.onclick = () => { overdueOnly = false; render(); };
      const late = el("button", t("collateral.overdue_count", { count: overdue.total }), {
        type: "button", class: overdueOnly ? "" : "secondary", "data-filter": "overdue",
      });
      late.onclick = () => { overdueOnly = true; render(); };
      filters.replaceChildren(all, late);
      if (!page.items.length) {
        list.replaceChildren(el("p", t(overdueOnly ? "collateral.none_overdue" : "collateral.none"), { class: "note" }));
        return;
      }
      const rows = table(page.items, [
        ["collateral.loan", (r) => r.loan_id.slice(0, 8)],
        ["collateral.status", (r) => badge(r)],
        ["collateral.funded_on", (r) => day(r.funded_on)],
        ["collateral.due_on", (r) => day(r.due_on)],
        ["collateral.registration_number", (r) => r.registration_number || "—"],
        ["collateral.registered_on", (r) => (r.registered_on ? day(r.registered_on) : "—")],
        ["collateral.released_on", (r) => (r.released_on ? day(r.released_on) : "—")],
      ]);
      rows.querySelectorAll("tbody tr").forEach((tr, index) => { tr.dataset.loan = page.items[index].loan_id; });
      list.replaceChildren(rows);
    }

    await render();
  }

  return { mount };
})();
