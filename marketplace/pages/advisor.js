// The advisor console: my buyers with their approval's status and expiry and how many of their
// messages are unread, each conversation with a reply box, and diversion alerts (a dealer looked
// an approval up and has not confirmed within a day) to call the buyer about and mark handled.
"use strict";

(() => {
  const { t, label, api, money, day, moment, el } = Autofin;
  const { $, start, button, table, pager } = Console;
  let open = null; // the buyer whose conversation is shown

  async function showAlerts() {
    const alerts = await api("GET", "/v1/advisor/alerts");
    $("alert-list").replaceChildren(table(alerts, [
      ["common.buyer", (a) => a.buyer_name],
      ["advisor.dealer", (a) => a.dealer_name],
      ["advisor.looked_up_at", (a) => moment(a.looked_up_at)],
      ["lender.actions", (a) => {
        const box = el("div", undefined, { class: "actions" });
        box.append(
          button("advisor.open", () => openConversation({ buyer_id: a.buyer_id, full_name: a.buyer_name }), $("alerts-error"), { class: "secondary", "aria-label": t("advisor.open_named", { name: a.buyer_name }) }),
          button("advisor.handled", async () => {
            await api("POST", `/v1/advisor/alerts/${a.lookup_id}/handled`);
            await showAlerts();
          }, $("alerts-error"), { "aria-label": t("advisor.handled_named", { name: a.buyer_name, dealer: a.dealer_name }) }),
        );
        return box;
      }],
    ], "advisor.alerts_caption"));
  }

  const buyers = pager($("buyer-list"), (offset) => api("GET", `/v1/advisor/buyers?limit=20&offset=${offset}`), (items) => table(items, [
    ["common.buyer", (b) => b.full_name],
    ["common.status", (b) => label("preapproval_status", b.status)],
    ["common.grade", (b) => b.grade],
    ["common.credit_limit", (b) => (b.credit_limit === null ? "—" : money(b.credit_limit)), "num"],
    ["common.expires", (b) => (b.expires_at ? day(b.expires_at) : "—")],
    ["advisor.unread", (b) => (b.unread ? el("span", String(b.unread), { class: "badge", "aria-label": t("advisor.unread_count", { count: b.unread }) }) : "0"), "num"],
    ["advisor.last_message", (b) => (b.last_message_at ? moment(b.last_message_at) : "—")],
    ["lender.actions", (b) => button("advisor.open", () => openConversation(b), $("buyers-error"), { "aria-label": t("advisor.open_named", { name: b.full_name }) })],
  ], "advisor.buyers_caption"));

  async function showMessages() {
    const page = await api("GET", `/v1/advisor/buyers/${open.buyer_id}/messages?limit=100`);
    $("messages").replaceChildren(...page.items.map((m) => {
      const item = el("li", undefined, { class: m.sender });
      item.append(el("small", `${t(`advisor.sender_${m.sender}`)} · ${moment(m.sent_at)}`), el("span", m.body));
      return item;
    }));
    if (!page.items.length) $("messages").append(el("li", t("advisor.no_messages")));
    // Opening the conversation reads it.
    await api("POST", `/v1/advisor/buyers/${open.buyer_id}/messages/read`);
  }

  async function openConversation(buyer) {
    open = buyer;
    $("conversation").hidden = false;
    $("conversation-heading").textContent = t("advisor.conversation_with", { name: buyer.full_name });
    await showMessages();
    await buyers.show();
    $("conversation-heading").focus();
  }

  Autofin.onSubmit($("reply-form"), async (data) => {
    await api("POST", `/v1/advisor/buyers/${open.buyer_id}/messages`, { body: data.get("body") });
    $("reply-form").reset();
    await showMessages();
    await buyers.show();
  });

  $("refresh").addEventListener("click", () => Promise.all([showAlerts(), buyers.show()]));
  start({ role: "advisor", onSignedIn: () => Promise.all([showAlerts(), buyers.show()]) });
})();
