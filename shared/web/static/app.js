// Shared helpers for Autofin's pages: languages, calling the JSON API, money, dates, safe
// rendering, who may use a page, announcing errors, QR codes and Stripe.js. Everything is
// rendered with textContent, never innerHTML, so no API value (nor a translation) can inject
// markup.
//
// Chinese first: a page is written in Chinese, then translated from the `pages` message
// catalogue (/i18n/<locale>.json, the same Babel .po files the server uses) into the reader's
// language: their choice (the switch in the header, remembered), else the browser's languages
// (the first of Chinese or English it lists), else Chinese. API calls send that language as
// Accept-Language, so refusals come back in it too.
"use strict";

const Autofin = (() => {
  const TOKEN = "autofin.token";
  const LANGUAGE = "autofin.lang";
  const LANGUAGES = { "zh-CN": "zh_CN", en: "en" };
  // Where each role works: a page refusing an account points it there.
  const HOMES = { buyer: "/buyer", dealer: "/dealer", lender: "/lender", advisor: "/advisor", admin: "/admin" };

  function browserLanguage() {
    for (const tag of navigator.languages || [navigator.language || ""]) {
      const lower = tag.toLowerCase();
      if (lower.startsWith("zh")) return "zh-CN";
      if (lower.startsWith("en")) return "en";
    }
    return "zh-CN";
  }

  const chosen = localStorage.getItem(LANGUAGE);
  const lang = chosen in LANGUAGES ? chosen : browserLanguage();
  let messages = {};

  // A page string in the reader's language, with {name} placeholders filled.
  function t(key, params = {}) {
    const template = messages[key] ?? key;
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }

  // A status or other enumerated value, as a label (approved → 已批准); unknown values as sent.
  function label(kind, value) {
    if (value === null || value === undefined || value === "") return "—";
    const key = `${kind}.${value}`;
    return key in messages ? messages[key] : String(value);
  }

  function translatePage() {
    document.documentElement.lang = lang;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-alt]")) node.setAttribute("alt", t(node.dataset.i18nAlt));
    for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
    for (const node of document.querySelectorAll("[data-lang-switch]")) {
      const other = lang === "en" ? "zh-CN" : "en";
      node.textContent = t("common.switch_language");
      node.setAttribute("lang", other);
      node.onclick = () => { localStorage.setItem(LANGUAGE, other); location.reload(); };
    }
    // Every error line is announced when it changes (screen readers read role="alert").
    for (const node of document.querySelectorAll(".error")) node.setAttribute("role", "alert");
    for (const node of document.querySelectorAll(".status")) node.setAttribute("aria-live", "polite");
  }

  const ready = fetch(`/i18n/${LANGUAGES[lang]}.json`)
    .then((response) => (response.ok ? response.json() : {}))
    .catch(() => ({}))
    .then((loaded) => {
      messages = loaded;
      if (document.readyState === "loading") {
        return new Promise((resolve) => document.addEventListener("DOMContentLoaded", () => { translatePage(); resolve(); }));
      }
      translatePage();
      return undefined;
    });

  function token() { return sessionStorage.getItem(TOKEN); }

  // A signed-in session that the server no longer accepts (expired, logged out elsewhere):
  // the page is told once, so it can say so and show its login again instead of failing quietly.
  const expiredHandlers = [];
  function onSessionExpired(handler) { expiredHandlers.push(handler); }

  // A page announces the account once it has let it in (after a login, or a session resumed at
  // load); modules on the page (the contract, the mandate, the deal desk) follow it through
  // onSession instead of polling. A handler registered after the announcement is called at once.
  let session = null;
  const sessionHandlers = [];
  function announceSession(account) {
    session = account;
    for (const handler of sessionHandlers) Promise.resolve(handler(account)).catch(() => {});
  }
  function onSession(handler) {
    sessionHandlers.push(handler);
    if (session) Promise.resolve(handler(session)).catch(() => {});
  }

  async function api(method, path, body, { idempotencyKey, form, anonymous } = {}) {
    const headers = { "Accept-Language": lang };
    const held = anonymous ? null : token();
    if (held) headers.Authorization = `Bearer ${held}`;
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let payload;
    if (form) {
      payload = new URLSearchParams(form);
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body: payload });
    } catch {
      throw new Error(t("common.offline"));
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      if (response.status === 401 && held) {
        logout();
        for (const handler of expiredHandlers) handler();
        throw new Error(t("common.session_expired"));
      }
      const error = data.error || { code: "http_error", message: response.statusText };
      const failure = new Error(error.message);
      failure.code = error.code;
      failure.status = response.status;
      throw failure;
    }
    return data;
  }

  async function login(email, password) {
    const answer = await api("POST", "/v1/auth/token", undefined, { form: { username: email, password } });
    sessionStorage.setItem(TOKEN, answer.access_token);
    return api("GET", "/v1/auth/me");
  }

  async function phoneLogin(phone, smsCode) {
    const answer = await api("POST", "/v1/auth/phone-token", { phone, sms_code: smsCode });
    sessionStorage.setItem(TOKEN, answer.access_token);
    return api("GET", "/v1/auth/me");
  }

  function me() { return api("GET", "/v1/auth/me"); }

  function logout() { sessionStorage.removeItem(TOKEN); }

  // Text a code; in development the sandbox keeps what it would have sent, and the newest code
  // for that purpose is returned so the page can show it (POST /v1/dev/sms is 404 in production).
  async function sendSmsCode(phone, purpose) {
    await api("POST", "/v1/auth/sms-codes", { phone, purpose });
    const sent = await api("POST", "/v1/dev/sms", { phone }).catch(() => []);
    const latest = sent.find((message) => message.purpose === purpose);
    return latest ? latest.code : null;
  }

  const yuanFormat = new Intl.NumberFormat(lang, { style: "currency", currency: "CNY" });
  const wanFormat = new Intl.NumberFormat("zh-CN", {
    style: "currency", currency: "CNY", notation: "compact", maximumFractionDigits: 2,
  });
  // Money as the reader writes it: in Chinese ¥10,000 and more in whole hundreds of yuan as
  // ¥37.09万 (exact, never rounded), else ¥14,523.00; in English CN¥370,900.00.
  function money(fen) {
    const amount = Number(fen);
    if (lang === "zh-CN" && amount >= 1000000 && amount % 10000 === 0) return wanFormat.format(amount / 100);
    return yuanFormat.format(amount / 100);
  }
  function toFen(yuanText) { return Math.round(Number(yuanText) * 100); }
  function percent(rate) { return `${(Number(rate) * 100).toFixed(2)}%`; }
  const dayFormat = new Intl.DateTimeFormat(lang, { dateStyle: "long" });
  const momentFormat = new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" });
  // Dates as the reader writes them: 2027年1月15日, January 15, 2027.
  function day(iso) { return dayFormat.format(new Date(iso)); }
  function moment(iso) { return momentFormat.format(new Date(iso)); }

  function el(tag, text, attrs = {}) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    return node;
  }

  // rows: list of objects; columns: [[heading key, row => value (text or a node), "num"?], ...].
  // Each cell carries its heading (data-label): on a phone the rows become cards; on a wider
  // screen a table too wide for its section scrolls inside it, never the page.
  function table(rows, columns, { caption } = {}) {
    const tableNode = el("table", undefined, { class: "cards" });
    if (caption) tableNode.createCaption().textContent = caption;
    const head = tableNode.createTHead().insertRow();
    for (const [heading, , kind] of columns) head.append(el("th", t(heading), { scope: "col", ...(kind ? { class: kind } : {}) }));
    const bodyRows = tableNode.createTBody();
    for (const row of rows) {
      const tr = bodyRows.insertRow();
      for (const [heading, value, kind] of columns) {
        const content = value(row);
        const td = el("td", content instanceof Node ? undefined : content, { "data-label": t(heading), ...(kind ? { class: kind } : {}) });
        if (content instanceof Node) td.append(content);
        tr.append(td);
      }
    }
    const wrap = el("div", undefined, { class: "table-wrap" });
    wrap.append(tableNode);
    return wrap;
  }

  // pairs: [[label key, value, class?], ...]
  function facts(pairs) {
    const box = el("dl", undefined, { class: "facts" });
    for (const [name, value, cls] of pairs) {
      const item = el("div");
      item.append(el("dt", t(name)), el("dd", value, cls ? { class: cls } : {}));
      box.append(item);
    }
    return box;
  }

  // Move the reader's focus (and a screen reader's) to where the page went on: a section's
  // heading after a step, an error after a refusal.
  function focusOn(node) {
    if (!node) return;
    const target = node.matches("h1, h2, h3, [tabindex]") ? node : node.querySelector("h2, h3") || node;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: false });
  }

  function errorNodeFor(form) {
    return form.querySelector(".error") || form.parentElement.querySelector(".error");
  }

  // Run an async form handler, showing any refusal in the form's .error element (announced,
  // role="alert"), and keeping the submit button from being pressed twice meanwhile.
  function onSubmit(form, handler) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = errorNodeFor(form);
      if (error) error.textContent = "";
      const buttons = form.querySelectorAll("button[type=submit]");
      for (const button of buttons) button.disabled = true;
      try {
        await ready;
        await handler(new FormData(form), event.submitter);
      } catch (failure) {
        if (error) error.textContent = failure.message;
      } finally {
        for (const button of buttons) button.disabled = false;
      }
    });
  }

  // Offer the catalogue's brands in the reader's language as the input's suggestions.
  async function fillBrands(datalist) {
    const page = await api("GET", "/v1/brands?limit=100");
    datalist.replaceChildren(
      ...page.items.map((brand) => el("option", undefined, { value: lang === "en" ? brand.name_en : brand.name_zh })),
    );
  }

  // Brand ids as the reader names them (bmw → 宝马 / BMW), from the catalogue, loaded once.
  let brandNames = null;
  function brands() {
    if (!brandNames) {
      brandNames = api("GET", "/v1/brands?limit=100", undefined, { anonymous: true })
        .then((page) => Object.fromEntries(page.items.map((b) => [b.id, lang === "en" ? b.name_en : b.name_zh])))
        .catch(() => ({}));
    }
    return brandNames;
  }

  // 还款总额 (everything repaid: principal and interest) is not 总成本 (what borrowing costs:
  // interest and fees); both are shown, named apart. The APR (年化利率) comes first.
  function totalRepayment(o) { return o.total_repayment ?? o.amount + o.total_interest; }
  const offerColumns = [
    ["offer.apr", (o) => percent(o.apr), "num"],
    ["offer.lender", (o) => o.lender],
    ["offer.product", (o) => o.product],
    ["offer.monthly", (o) => money(o.monthly_payment), "num"],
    ["offer.total_repayment", (o) => money(totalRepayment(o)), "num"],
    ["offer.total_interest", (o) => money(o.total_interest), "num"],
    ["offer.amount", (o) => money(o.amount), "num"],
    ["offer.term", (o) => o.term_months, "num"],
    ["offer.method", (o) => label("method", o.method)],
    ["offer.rate", (o) => percent(o.annual_rate), "num"],
  ];

  // Pages call this with the role(s) they serve once they know who is signed in; another role's
  // account gets a clear "not for this account" notice (with a way to its own page and out)
  // instead of a form that would only refuse it. True when the account may use the page.
  function requireRole(account, roles) {
    const allowed = Array.isArray(roles) ? roles : [roles];
    if (account && allowed.includes(account.role)) return true;
    const main = document.querySelector("main");
    for (const section of main.querySelectorAll(":scope > section")) section.hidden = true;
    let notice = document.getElementById("not-for-account");
    if (!notice) {
      notice = el("section", undefined, { id: "not-for-account", "aria-labelledby": "not-for-account-heading" });
      main.prepend(notice);
    }
    const heading = el("h2", t("common.not_for_account"), { id: "not-for-account-heading" });
    const explanation = el("p", t("common.not_for_account_detail", {
      role: label("role", account ? account.role : ""),
      wanted: allowed.map((role) => label("role", role)).join(lang === "en" ? ", " : "、"),
    }));
    const actions = el("p", undefined, { class: "actions" });
    const home = account && HOMES[account.role];
    if (home) actions.append(el("a", t("common.go_to_my_page"), { href: home, class: "button" }));
    const out = el("button", t("common.logout_other"), { type: "button", class: "secondary" });
    out.addEventListener("click", () => { logout(); location.reload(); });
    actions.append(out);
    notice.replaceChildren(heading, explanation, actions);
    notice.hidden = false;
    for (const node of document.querySelectorAll("#logout")) node.hidden = false;
    focusOn(heading);
    return false;
  }

  // Stripe.js, loaded once from the configured address (Stripe's, or the local emulator's
  // stand-in), then a card element mounted in `container`. `confirm()` hands the card to
  // Stripe (confirmCardSetup) and gives back its payment method id: card data never reaches us.
  const stripeScripts = {};
  function loadStripe(url) {
    if (!stripeScripts[url]) {
      stripeScripts[url] = new Promise((resolve, reject) => {
        const script = el("script", undefined, { src: url });
        script.addEventListener("load", () => resolve(window.Stripe));
        script.addEventListener("error", () => reject(new Error(t("common.stripe_unavailable"))));
        document.head.append(script);
      });
    }
    return stripeScripts[url];
  }

  async function cardForm(container, setup) {
    const Stripe = await loadStripe(setup.stripe_js_url);
    const stripe = Stripe(setup.publishable_key);
    const card = stripe.elements({ locale: lang === "en" ? "en" : "zh" }).create("card");
    container.replaceChildren();
    card.mount(container);
    return {
      stripe,
      async confirm() {
        const answer = await stripe.confirmCardSetup(setup.setup_client_secret, { payment_method: { card } });
        if (answer.error) throw new Error(answer.error.message || t("common.card_refused"));
        const method = answer.setupIntent.payment_method;
        return typeof method === "string" ? method : method.id;
      },
    };
  }

  // Calls `refresh` every `seconds` while the page is visible (and at once when it is shown
  // again), so a screen left open keeps up; returns a function that stops it.
  function every(seconds, refresh) {
    let timer = null;
    const tick = () => { if (!document.hidden) refresh().catch(() => {}); };
    const start = () => { if (!timer) timer = setInterval(tick, seconds * 1000); };
    const onVisible = () => { if (!document.hidden) tick(); };
    document.addEventListener("visibilitychange", onVisible);
    start();
    return () => { clearInterval(timer); timer = null; document.removeEventListener("visibilitychange", onVisible); };
  }

  return {
    lang, ready, t, label, api, login, phoneLogin, me, logout, token, onSessionExpired, sendSmsCode,
    announceSession, onSession,
    money, toFen, percent, day, moment, el, table, facts, focusOn, onSubmit, fillBrands,
    offerColumns, totalRepayment, brands, requireRole, loadStripe, cardForm, every,
  };
})();
