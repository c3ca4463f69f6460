// The dealer's collateral desk (抵押登记): for each funded deal, when the registration of the car
// as the lender's collateral is due and whether it is overdue; a form to record it (the
// certificate is uploaded to the deal's documents first); after payoff, the release (解押)
// instructions and a form to record the release. One entry point:
//   AutofinDealCollateral.mount(container, Autofin)
// Rendered with textContent only (Autofin.el), never innerHTML.
"use strict";

const AutofinDealCollateral = (() => {
  const FILE_TYPES = "application/pdf,image/jpeg,image/png";

  async function upload(A, dealId, file) {
    const body = new FormData();
    body.append("file", file);
    const response = await fetch(`/v1/dealer/deals/${dealId}/documents`, {
      method: "POST", body, headers: { Authorization: `Bearer ${A.token()}`, "Accept-Language": A.lang },
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
    return data;
  }

  function field(A, key, input) {
    const label = A.el("label", A.t(key));
    label.append(input);
    return label;
  }

  function today() {
    const now = new Date();
    return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  }

  // Record the registration: the certificate first (a deal document), then the registration.
  function registrationForm(A, record, refresh) {
    const form = A.el("form", undefined, { class: "collateral-form" });
    const number = A.el("input", undefined, { name: "registration_number", required: "", maxlength: "64", autocomplete: "off" });
    const authority = A.el("input", undefined, { name: "authority", required: "", maxlength: "200", autocomplete: "off" });
    const on = A.el("input", undefined, { name: "registered_on", type: "date", required: "", max: today() });
    const file = A.el("input", undefined, { name: "file", type: "file", accept: FILE_TYPES, required: "" });
    const error = A.el("p", undefined, { class: "error", role: "alert" });
    form.append(
      field(A, "collateral.registration_number", number),
      field(A, "collateral.authority", authority),
      field(A, "collateral.registered_on", on),
      field(A, "collateral.certificate", file),
      A.el("button", A.t("collateral.record"), { type: "submit" }),
      error,
    );
    A.onSubmit(form, async () => {
      const document = await upload(A, record.deal_id, file.files[0]);
      await A.api("POST", `/v1/dealer/deals/${record.deal_id}/collateral`, {
        registration_number: number.value, authority: authority.value,
        registered_on: on.value, document_id: document.id,
      });
      await refresh();
    });
    return form;
  }

  // Record the release done at the vehicle administration office (the certificate optional).
  function releaseForm(A, record, refresh) {
    const form = A.el("form", undefined, { class: "release-form" });
    const on = A.el("input", undefined, { name: "released_on", type: "date", required: "", max: today() });
    const file = A.el("input", undefined, { name: "file", type: "file", accept: FILE_TYPES });
    form.append(
      field(A, "collateral.released_on", on),
      field(A, "collateral.release_certificate", file),
      A.el("button", A.t("collateral.record_release"), { type: "submit" }),
      A.el("p", undefined, { class: "error", role: "alert" }),
    );
    A.onSubmit(form, async () => {
      const body = { released_on: on.value };
      if (file.files.length) body.document_id = (await upload(A, record.deal_id, file.files[0])).id;
      await A.api("POST", `/v1/dealer/deals/${record.deal_id}/collateral/release`, body);
      await refresh();
    });
    return form;
  }

  function statusText(A, record) {
    if (record.overdue) return A.t("collateral.overdue");
    const text = A.label("collateral_status", record.status);
    return record.registered_late ? `${text}（${A.t("collateral.late")}）` : text;
  }

  function card(A, record, refresh) {
    const box = A.el("article", undefined, { class: "collateral-deal" });
    box.dataset.dealId = record.deal_id;
    box.append(
      A.el("h3", `${A.t("collateral.vin")} ${record.vin}`),
      A.facts([
        ["collateral.status", statusText(A, record), record.overdue ? "overdue collateral-status" : "collateral-status"],
        ["collateral.funded_on", A.day(record.funded_on)],
        ["collateral.due_on", A.day(record.due_on), record.overdue ? "overdue" : ""],
        ["collateral.registration_number", record.registration_number || "—"],
        ["collateral.registered_on", record.registered_on ? A.day(record.registered_on) : "—"],
      ]),
    );
    if (record.status === "awaiting") box.append(registrationForm(A, record, refresh));
    if (record.release_instructions) {
      const text = A.lang === "en" ? record.release_instructions.en : record.release_instructions.zh;
      box.append(A.el("h4", A.t("collateral.instructions")), A.el("p", text, { class: "release-instructions" }));
    }
    if (record.status === "release_issued") box.append(releaseForm(A, record, refresh));
    if (record.released_on) box.append(A.el("p", `${A.t("collateral.released_on")}: ${A.day(record.released_on)}`));
    return box;
  }

  function mount(container, A) {
    const list = A.el("div", undefined, { class: "collateral-deals" });
    const error = A.el("p", undefined, { class: "error", role: "alert" });
    const filter = A.el("select", undefined, { name: "collateral-filter" });
    for (const [value, key] of [["", "collateral.all"], ["overdue", "collateral.only_overdue"], ["awaiting", "collateral_status.awaiting"]]) {
      filter.append(A.el("option", A.t(key), { value }));
    }
    async function refresh() {
      error.textContent = "";
      if (!A.token()) { list.replaceChildren(); return; }
      const query = filter.value === "overdue" ? "&overdue=true" : filter.value ? `&status=${filter.value}` : "";
      try {
        const page = await A.api("GET", `/v1/dealer/collateral?limit=50${query}`);
        list.replaceChildren(...page.items.map((record) => card(A, record, refresh)));
        if (!page.items.length) list.append(A.el("p", A.t("collateral.none"), { class: "note" }));
        container.hidden = false;
      } catch (failure) { error.textContent = failure.message; }
    }
    filter.onchange = refresh;
    container.replaceChildren(
      A.el("h2", A.t("collateral.heading")),
      A.el("p", A.t("collateral.dealer_note"), { class: "note" }),
      field(A, "collateral.show", filter),
      list,
      error,
    );
    A.onSession((account) => (account.role === "dealer" ? refresh() : undefined));
    return { refresh };
  }

  return { mount };
})();

document.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("collateral");
  if (container) Autofin.ready.then(() => AutofinDealCollateral.mount(container, Autofin));
});
