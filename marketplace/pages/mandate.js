// Automatic debit (代扣) on the buyer's page: per loan, authorise or revoke the mandate with the
// exact text agreed to, see the debits made and the reminders sent.
//
//   AutofinMandate.mount(container, api?, { loanId? })
//
// With no loanId it shows every loan of the signed-in buyer that can be collected. `api` is
// Autofin.api (or anything with its signature). Renders with textContent only (app.js's el).
"use strict";

window.AutofinMandate = (() => {
  const COLLECTIBLE = new Set(["active", "pending_funding"]);

  async function loanPanel(loan, api) {
    const { t, label, money, day, moment, el, table } = Autofin;
    const box = el("div", undefined, { class: "mandate", "data-loan": loan.id });
    const error = el("p", undefined, { class: "error", role: "alert" });
    const [state, reminders] = await Promise.all([
      api("GET", `/v1/buyer/loans/${loan.id}/mandate`),
      api("GET", `/v1/buyer/loans/${loan.id}/reminders`),
    ]);
    box.append(el("h3", t("mandate.loan", { principal: money(loan.principal), date: day(loan.loan_date) })));
    const mandate = state.mandate;
    const status = el("p", undefined, { class: "mandate-status" });
    if (mandate) {
      status.textContent = t("mandate.active", {
        card: mandate.card_last4 ? `${(mandate.card_brand || "").toUpperCase()} ${mandate.card_last4}` : "—",
        since: moment(mandate.agreed_at),
      });
    } else {
      status.textContent = t("mandate.none");
    }
    box.append(status);
    const text = el("blockquote", mandate ? mandate.agreed_text : state.text, { class: "mandate-text" });
    box.append(el("h4", t(mandate ? "mandate.agreed_text" : "mandate.text_to_agree")), text);
    if (mandate) {
      const revoke = el("button", t("mandate.revoke"), { type: "button", class: "secondary" });
      revoke.onclick = async () => {
        error.textContent = "";
        try {
          await api("DELETE", `/v1/buyer/loans/${loan.id}/mandate`);
          box.replaceWith(await loanPanel(loan, api));
        } catch (failure) { error.textContent = failure.message; }
      };
      box.append(revoke);
    } else if (COLLECTIBLE.has(loan.status)) {
      const agree = el("input", undefined, { type: "checkbox", id: `mandate-agree-${loan.id}` });
      const agreeLabel = el("label", t("mandate.agree"), { for: agree.id });
      const authorise = el("button", t("mandate.authorise"), { type: "button" });
      authorise.disabled = true;
      agree.onchange = () => { authorise.disabled = !agree.checked; };
      authorise.onclick = async () => {
        error.textContent = "";
        try {
          await api("POST", `/v1/buyer/loans/${loan.id}/mandate`, {});
          box.replaceWith(await loanPanel(loan, api));
        } catch (failure) { error.textContent = failure.message; }
      };
      box.append(el("p", undefined, {}), agree, agreeLabel, authorise);
    }
    box.append(error);
    if (state.attempts.length) {
      box.append(el("h4", t("mandate.attempts")), table(state.attempts, [
        ["mandate.attempted_on", (a) => day(a.attempted_on)],
        ["mandate.instalment", (a) => a.installment_n, "num"],
        ["mandate.amount", (a) => money(a.amount), "num"],
        ["common.status", (a) => label("debit_status", a.status)],
      ]));
    }
    box.append(el("h4", t("mandate.reminders")));
    if (reminders.length) {
      const list = el("ul", undefined, { class: "reminders" });
      for (const reminder of reminders) {
        const item = el("li");
        item.append(
          el("span", moment(reminder.sent_at || reminder.created_at), { class: "note" }),
          el("span", " "),
          el("span", reminder.body),
          el("span", ` (${label("reminder_status", reminder.status)})`, { class: "note" }),
        );
        list.append(item);
      }
      box.append(list);
    } else {
      box.append(el("p", t("mandate.no_reminders"), { class: "note" }));
    }
    return box;
  }

  async function mount(container, api = Autofin.api, { loanId } = {}) {
    await Autofin.ready;
    const { t, el } = Autofin;
    container.replaceChildren(el("h2", t("mandate.heading")));
    let loans;
    if (loanId) {
      loans = [await api("GET", `/v1/buyer/loans/${loanId}`)];
    } else {
      loans = (await api("GET", "/v1/buyer/loans?limit=20")).items;
    }
    loans = loans.filter((loan) => COLLECTIBLE.has(loan.status));
    if (!loans.length) {
      container.append(el("p", t("mandate.no_loans"), { class: "note" }));
      return;
    }
    for (const loan of loans) container.append(await loanPanel(loan, api));
    container.hidden = false;
  }

  // On the buyer page: once the page has let a buyer in (a login, or a session resumed at load),
  // their collectible loans are shown (the container is there).
  document.addEventListener("DOMContentLoaded", () => {
    const container = document.getElementById("autofin-mandate");
    if (!container) return;
    Autofin.onSession((account) => (account.role === "buyer" ? mount(container) : undefined));
  });

  return { mount };
})();
