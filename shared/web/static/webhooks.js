// Webhook settings for a lender or a dealer: register endpoints (the signing secret is shown
// once), enable, disable or delete them, read each one's delivery log and redeliver.
//
//   AutofinWebhooks.mount(container, Autofin.api, "dealer")   // or "lender"
//
// Needs app.js (Autofin) loaded first. Strings come from the pages catalogue (webhooks.*)
// through Autofin.t; every value is put in with textContent (Autofin.el), never innerHTML.
"use strict";

window.AutofinWebhooks = (() => {
  const EVENT_TYPES = [
    "deal.submitted", "deal.decision_required", "deal.signed", "deal.handed_over",
    "loan.funded", "payment.succeeded", "loan.delinquent", "loan.paid_off",
    "loan.collateral_registered", "loan.collateral_overdue", "loan.collateral_release_issued",
    "loan.collateral_released",
  ];

  function mount(container, api, audience) {
    const { t, el, moment, table, ready } = Autofin; // app.js's global
    const base = `/v1/${audience}/webhook-endpoints`;
    const root = el("section", undefined, { class: "webhooks", "data-webhooks": audience });
    const error = el("p", undefined, { class: "error", role: "alert" });
    const secretBox = el("div", undefined, { class: "webhook-secret", hidden: "" });
    const list = el("div", undefined, { class: "webhook-endpoints" });
    const log = el("div", undefined, { class: "webhook-deliveries" });

    async function attempt(work) {
      error.textContent = "";
      try {
        await work();
      } catch (failure) {
        error.textContent = failure.message;
      }
    }

    function button(key, onClick, cls = "secondary") {
      const node = el("button", t(key), { type: "button", class: cls });
      node.addEventListener("click", () => attempt(onClick));
      return node;
    }

    // The registration form: a URL and the event types, each a checkbox.
    const form = el("form", undefined, { class: "webhook-form" });
    const urlLabel = el("label", t("webhooks.url"));
    const urlInput = el("input", undefined, {
      name: "url", type: "url", required: "", placeholder: "https://", autocomplete: "off",
    });
    urlLabel.append(urlInput);
    const events = el("fieldset");
    events.append(el("legend", t("webhooks.events")));
    for (const type of EVENT_TYPES) {
      const option = el("label", undefined, { class: "check" });
      option.append(el("input", undefined, { type: "checkbox", name: "events", value: type }), ` ${type}`);
      events.append(option);
    }
    form.append(urlLabel, events, el("button", t("webhooks.add"), { type: "submit" }));
    form.addEventListener("submit", (submitted) => {
      submitted.preventDefault();
      attempt(async () => {
        const chosen = [...form.querySelectorAll("input[name=events]:checked")].map((box) => box.value);
        if (chosen.length === 0) throw new Error(t("webhooks.pick_events"));
        const created = await api("POST", base, { url: urlInput.value.trim(), events: chosen });
        showSecret(created.secret);
        form.reset();
        await refresh();
      });
    });

    function showSecret(secret) {
      const value = el("code", secret, { "data-secret": "" });
      secretBox.replaceChildren(el("strong", t("webhooks.secret_once")), value);
      secretBox.hidden = false;
    }

    function statusText(endpoint) {
      if (endpoint.enabled) return t("webhooks.enabled");
      return endpoint.disabled_reason === "failing" ? t("webhooks.disabled_failing") : t("webhooks.disabled");
    }

    async function refresh() {
      const page = await api("GET", `${base}?limit=100`);
      if (page.items.length === 0) {
        list.replaceChildren(el("p", t("webhooks.none"), { class: "note" }));
        return;
      }
      // app.js's table: on a phone each endpoint is a card, never wider than the screen.
      const tableNode = table(page.items, [
        ["webhooks.url", (endpoint) => endpoint.url],
        ["webhooks.events", (endpoint) => endpoint.events.join(", ")],
        ["common.status", statusText],
        ["webhooks.actions", (endpoint) => {
          const actions = el("span", undefined, { class: "actions" });
          actions.append(
            button("webhooks.deliveries", () => showDeliveries(endpoint)),
            endpoint.enabled
              ? button("webhooks.disable", () => setEnabled(endpoint, false))
              : button("webhooks.enable", () => setEnabled(endpoint, true)),
            button("webhooks.delete", () => remove(endpoint)),
          );
          return actions;
        }],
      ]);
      tableNode.querySelectorAll("tbody tr").forEach((row, index) => { row.dataset.endpoint = page.items[index].id; });
      list.replaceChildren(tableNode);
    }

    async function setEnabled(endpoint, enabled) {
      await api("PATCH", `${base}/${endpoint.id}`, { enabled });
      await refresh();
    }

    async function remove(endpoint) {
      if (!window.confirm(t("webhooks.delete_confirm"))) return;
      await api("DELETE", `${base}/${endpoint.id}`);
      log.replaceChildren();
      await refresh();
    }

    async function showDeliveries(endpoint) {
      const page = await api("GET", `${base}/${endpoint.id}/deliveries?limit=50`);
      const heading = el("h3", `${t("webhooks.deliveries")} · ${endpoint.url}`);
      if (page.items.length === 0) {
        log.replaceChildren(heading, el("p", t("webhooks.no_deliveries"), { class: "note" }));
        return;
      }
      const tableNode = table(page.items, [
        ["webhooks.event", (delivery) => delivery.event_type],
        ["webhooks.created", (delivery) => moment(delivery.event_created)],
        ["common.status", (delivery) => t(`webhooks.status.${delivery.status}`)],
        ["webhooks.attempts", (delivery) => String(delivery.attempt_count), "num"],
        ["webhooks.last_answer", (delivery) => {
          const last = delivery.attempts[delivery.attempts.length - 1];
          return last
            ? `${last.status_code ?? "—"}${last.error ? ` (${last.error})` : ""} · ${last.duration_ms} ms`
            : "—";
        }],
        ["webhooks.actions", (delivery) => button("webhooks.redeliver", async () => {
          await api("POST", `${base}/${endpoint.id}/deliveries/${delivery.id}/redeliver`);
          await showDeliveries(endpoint);
        })],
      ]);
      tableNode.querySelectorAll("tbody tr").forEach((row, index) => { row.dataset.delivery = page.items[index].id; });
      log.replaceChildren(heading, tableNode);
    }

    root.append(el("h2", t("webhooks.heading")), el("p", t("webhooks.intro"), { class: "note" }),
      form, secretBox, error, list, log);
    container.replaceChildren(root);
    return ready.then(() => attempt(refresh));
  }

  return { mount, EVENT_TYPES };
})();
