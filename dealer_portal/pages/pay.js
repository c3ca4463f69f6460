// The down payment's payment page, opened on the buyer's phone from the QR code on the dealer's
// screen (/pay#<client secret>). It shows what is being paid, takes the card with Stripe.js
// (the card goes to Stripe; we get a payment method id), and asks our server to pay the
// intent with it; a card that needs authentication is finished by Stripe.js. The dealer's
// screen turns to "handed over" when Stripe's webhook reports the payment.
"use strict";

(() => {
  const { ready, t, label, api, money, facts, focusOn, onSubmit, cardForm, brands } = Autofin;
  const $ = (id) => document.getElementById(id);
  const secret = decodeURIComponent(location.hash.slice(1));
  let card = null;
  let page = null;

  let names = {};
  function showState(current) {
    $("pay-facts").replaceChildren(facts([
      ["pay.amount", money(current.amount)],
      ["pay.dealer", current.dealer],
      ["dealer.car", `${names[current.vehicle_make] || current.vehicle_make} ${current.vehicle_model}`],
      ["common.buyer", current.buyer_name_masked],
      ["common.down_payment_short", label("down_payment_status", current.down_payment_status)],
    ]));
    const state = $("pay-state");
    state.className = "status";
    if (current.down_payment_status === "paid") {
      state.textContent = t("pay.paid");
      state.className = "status ok";
    } else if (current.deal_status !== "confirmed") {
      state.textContent = t("pay.not_due");
    } else if (current.down_payment_status === "failed") {
      state.textContent = t("pay.failed_retry", { reason: current.failure_message || "—" });
      state.className = "status bad";
    } else {
      state.textContent = "";
    }
  }

  async function load() {
    names = await brands();
    page = await api("POST", "/v1/pay/down-payment", { client_secret: secret }, { anonymous: true });
    showState(page);
    if (page.card) {
      card = await cardForm($("card-element"), page.card);
      $("pay-form").hidden = false;
    } else {
      $("pay-form").hidden = true;
    }
  }

  onSubmit($("pay-form"), async () => {
    $("pay-state").textContent = t("pay.paying");
    const paymentMethod = await card.confirm();
    const answer = await api("POST", "/v1/pay/down-payment/confirm", { client_secret: secret, payment_method: paymentMethod }, { anonymous: true });
    if (answer.status === "requires_action") {
      // 3-D Secure and the like: Stripe.js finishes it with the intent's secret.
      const finished = await card.stripe.confirmCardPayment(secret);
      if (finished.error) throw new Error(finished.error.message || t("common.card_refused"));
    }
    $("pay-form").hidden = true;
    const paid = answer.status === "succeeded" || answer.status === "requires_action";
    $("pay-state").textContent = t(paid ? "pay.paid" : "pay.processing");
    $("pay-state").className = paid ? "status ok" : "status";
    focusOn($("pay-state"));
  });

  ready.then(() => {
    if (!secret) { $("link-error").textContent = t("pay.no_link"); return; }
    load().catch((failure) => { $("link-error").textContent = failure.message; focusOn($("link-error")); });
  });
})();
