// The collection queue for lender staff (and advisors, for guaranteed loans): loans past due by
// bucket — who owes what since when, the last contact, the latest promise — and, per loan, the
// contact history with forms for a note and a promise to pay.
//
//   AutofinCollections.mount(container, api?, { audience: "lender" | "advisor" })
//
// Advisors read their queue; notes and promises are the lender's. Renders with textContent only.
"use strict";

window.AutofinCollections = (() => {
  const BUCKETS = ["1-30", "31-60", "61-90", "90+"];

  // A label holding its input, so the field is named by its label.
  function field(text, input) {
    const node = Autofin.el("label", text);
    node.append(input);
    return node;
  }

  function historyPanel(loanId, api, base, canWrite) {
    const { t, label, money, toFen, day, moment, el, table } = Autofin;
    const box = el("div", undefined, { class: "collection-history", "data-loan": loanId });
    const error = el("p", undefined, { class: "error", role: "alert" });

    async function render() {
      const history = await api("GET", `${base}/${loanId}`);
      box.replaceChildren(el("h3", t("collections.history")));
      const entries = [
        ...history.notices.map((n) => ({ at: n.created_at, what: label("reminder_kind", n.kind), text: n.body })),
        ...history.notes.map((n) => ({
          at: n.created_at,
          what: label("note_kind", n.kind),
          text: n.kind === "promise"
            ? t("collections.promise_text", { amount: money(n.promised_amount), date: day(n.promised_on), note: n.text })
            : n.text,
        })),
        ...history.attempts.map((a) => ({
          at: a.attempted_on,
          what: t("collections.debit"),
          text: `${money(a.amount)} · ${label("debit_status", a.status)}`,
        })),
      ].sort((x, y) => (x.at < y.at ? 1 : -1));
      box.append(table(entries, [
        ["collections.when", (e) => moment(e.at)],
        ["collections.what", (e) => e.what],
        ["collections.detail", (e) => e.text],
      ]));
      if (canWrite) {
        const noteForm = el("form", undefined, { class: "note-form" });
        const noteText = el("input", undefined, { name: "text", required: "", maxlength: "2000" });
        noteForm.append(field(t("collections.note"), noteText), el("button", t("collections.add_note"), { type: "submit" }));
        noteForm.onsubmit = async (event) => {
          event.preventDefault();
          error.textContent = "";
          try {
            await api("POST", `${base}/${loanId}/notes`, { text: noteText.value });
            await render();
          } catch (failure) { error.textContent = failure.message; }
        };
        const promiseForm = el("form", undefined, { class: "promise-form" });
        const amount = el("input", undefined, { name: "amount", type: "number", min: "0.01", step: "0.01", required: "" });
        const on = el("input", undefined, { name: "promised_on", type: "date", required: "" });
        promiseForm.append(
          field(t("collections.promise_amount"), amount),
          field(t("collections.promise_on"), on),
          el("button", t("collections.add_promise"), { type: "submit" }),
        );
        promiseForm.onsubmit = async (event) => {
          event.preventDefault();
          error.textContent = "";
          try {
            await api("POST", `${base}/${loanId}/promises`, { amount: toFen(amount.value), promised_on: on.value });
            await render();
          } catch (failure) { error.textContent = failure.message; }
        };
        box.append(noteForm, promiseForm);
      }
      box.append(error);
    }

    render().catch((failure) => { error.textContent = failure.message; box.append(error); });
    return box;
  }

  async function mount(container, api = Autofin.api, { audience = "lender" } = {}) {
    await Autofin.ready;
    const { t, money, day, moment, el, table } = Autofin;
    const base = `/v1/${audience}/collections`;
    const canWrite = audience === "lender";
    let bucket = null;
    const filters = el("div", undefined, { class: "bucket-filters" });
    const list = el("div");
    const detail = el("div");
    container.replaceChildren(el("h2", t("collections.heading")), filters, list, detail);

    async function render() {
      const queue = await api("GET", bucket ? `${base}?bucket=${encodeURIComponent(bucket)}&limit=100` : `${base}?limit=100`);
      filters.replaceChildren();
      const all = el("button", t("collections.all"), { type: "button", class: bucket ? "secondary" : "" });
      all.onclick = () => { bucket = null; render(); };
      filters.append(all);
      for (const name of BUCKETS) {
        const figures = queue.buckets[name];
        const button = el("button", t("collections.bucket", { bucket: name, count: figures.count, balance: money(figures.balance) }), {
          type: "button", class: bucket === name ? "" : "secondary", "data-bucket": name,
        });
        button.onclick = () => { bucket = name; render(); };
        filters.append(button);
      }
      if (!queue.items.length) {
        list.replaceChildren(el("p", t("collections.empty"), { class: "note" }));
        return;
      }
      const rows = table(queue.items, [
        ["collections.buyer", (i) => `${i.buyer.name} ${i.buyer.phone_masked || ""}`.trim()],
        ["collections.bucket_heading", (i) => i.bucket],
        ["collections.days_past_due", (i) => i.days_past_due, "num"],
        ["collections.overdue_since", (i) => (i.overdue_since ? day(i.overdue_since) : "—")],
        ["collections.overdue_amount", (i) => money(i.overdue_amount), "num"],
        ["collections.late_fees", (i) => money(i.late_fees), "num"],
        ["collections.balance", (i) => money(i.balance), "num"],
        ["collections.auto_debit", (i) => t(i.mandate_active ? "collections.yes" : "collections.no")],
        ["collections.last_contact", (i) => (i.last_contact_at ? moment(i.last_contact_at) : "—")],
        ["collections.promise", (i) => (i.promise ? `${money(i.promise.promised_amount)} · ${day(i.promise.promised_on)}` : "—")],
      ]);
      rows.querySelectorAll("tbody tr").forEach((tr, index) => {
        tr.tabIndex = 0;
        tr.dataset.loan = queue.items[index].loan_id;
        tr.onclick = () => detail.replaceChildren(historyPanel(queue.items[index].loan_id, api, base, canWrite));
      });
      list.replaceChildren(el("p", t("collections.total", { total: queue.total }), { class: "note" }), rows);
    }

    await render();
  }

  return { mount };
})();
