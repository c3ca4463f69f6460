// Shared helpers for Autofin's pages: languages, calling the JSON API, money, dates, and safe
// rendering. Everything is rendered with textContent, never innerHTML, so no API value (nor a
// translation) can inject markup.
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
    for (const node of document.querySelectorAll("[data-lang-switch]")) {
      const other = lang === "en" ? "zh-CN" : "en";
      node.textContent = t("common.switch_language");
      node.setAttribute("lang", other);
      node.onclick = () => { localStorage.setItem(LANGUAGE, other); location.reload(); };
    }
  }

  const ready = fetch(`/i18n/${LANGUAGES[lang]}.json`)
    .then((response) => (response.ok ? response.json() : {}))
    .catch(() => ({}))
    .then((loaded) => {
      messages = loaded;
      if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", translatePage);
      else translatePage();
    });

  function token() { return sessionStorage.getItem(TOKEN); }

  async function api(method, path, body, { idempotencyKey, form } = {}) {
    const headers = { "Accept-Language": lang };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let payload;
    if (form) {
      payload = new URLSearchParams(form);
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch(path, { method, headers, body: payload });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = data.error || { code: "http_error", message: response.statusText };
      throw new Error(error.message);
    }
    return data;
  }

  async function login(email, password) {
    const answer = await api("POST", "/v1/auth/token", undefined, { form: { username: email, password } });
    sessionStorage.setItem(TOKEN, answer.access_token);
    return api("GET", "/v1/auth/me");
  }

  function logout() { sessionStorage.removeItem(TOKEN); }

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

  // rows: list of objects; columns: [[heading key, row => value, "num"?], ...]
  function table(rows, columns) {
    const tableNode = el("table");
    const head = tableNode.createTHead().insertRow();
    for (const [heading, , kind] of columns) head.append(el("th", t(heading), kind ? { class: kind } : {}));
    const bodyRows = tableNode.createTBody();
    for (const row of rows) {
      const tr = bodyRows.insertRow();
      for (const [, value, kind] of columns) tr.append(el("td", value(row), kind ? { class: kind } : {}));
    }
    return tableNode;
  }

  // pairs: [[label key, value, class?], ...]
  function facts(pairs) {
    const box = el("div", undefined, { class: "facts" });
    for (const [name, value, cls] of pairs) {
      const item = el("div");
      item.append(el("span", t(name)), el("strong", value, cls ? { class: cls } : {}));
      box.append(item);
    }
    return box;
  }

  // Run an async form handler, showing any refusal in the form's .error element.
  function onSubmit(form, handler) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = form.querySelector(".error") || form.parentElement.querySelector(".error");
      if (error) error.textContent = "";
      try {
        await ready;
        await handler(new FormData(form));
      } catch (failure) {
        if (error) error.textContent = failure.message;
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

  const offerColumns = [
    ["offer.rank", (o) => o.rank],
    ["offer.lender", (o) => o.lender],
    ["offer.product", (o) => o.product],
    ["offer.rate", (o) => percent(o.annual_rate), "num"],
    ["offer.apr", (o) => percent(o.apr), "num"],
    ["offer.term", (o) => o.term_months, "num"],
    ["offer.amount", (o) => money(o.amount), "num"],
    ["offer.monthly", (o) => money(o.monthly_payment), "num"],
    ["offer.total_cost", (o) => money(o.total_cost), "num"],
  ];

  return {
    lang, ready, t, label, api, login, logout, token, money, toFen, percent, day, moment,
    el, table, facts, onSubmit, fillBrands, offerColumns,
  };
})();
