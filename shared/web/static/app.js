// Shared helpers for Autofin's pages: calling the JSON API, money, and safe rendering.
// Everything is rendered with textContent, never innerHTML, so no API value can inject markup.
"use strict";

const Autofin = (() => {
  const TOKEN = "autofin.token";

  function token() { return sessionStorage.getItem(TOKEN); }

  async function api(method, path, body, { idempotencyKey, form } = {}) {
    const headers = {};
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
      const fields = (error.fields || []).map((f) => `${f.field}: ${f.message}`).join("; ");
      throw new Error(fields ? `${error.message}` : error.message);
    }
    return data;
  }

  async function login(email, password) {
    const answer = await api("POST", "/v1/auth/token", undefined, { form: { username: email, password } });
    sessionStorage.setItem(TOKEN, answer.access_token);
    return api("GET", "/v1/auth/me");
  }

  function logout() { sessionStorage.removeItem(TOKEN); }

  const yuanFormat = new Intl.NumberFormat("zh-CN", { style: "currency", currency: "CNY" });
  function money(fen) { return yuanFormat.format(Number(fen) / 100); }
  function toFen(yuanText) { return Math.round(Number(yuanText) * 100); }
  function percent(rate) { return `${(Number(rate) * 100).toFixed(2)}%`; }

  function el(tag, text, attrs = {}) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    return node;
  }

  // rows: list of objects; columns: [[heading, row => value, "num"?], ...]
  function table(rows, columns) {
    const t = el("table");
    const head = t.createTHead().insertRow();
    for (const [heading, , kind] of columns) head.append(el("th", heading, kind ? { class: kind } : {}));
    const bodyRows = t.createTBody();
    for (const row of rows) {
      const tr = bodyRows.insertRow();
      for (const [, value, kind] of columns) tr.append(el("td", value(row), kind ? { class: kind } : {}));
    }
    return t;
  }

  function facts(pairs) {
    const box = el("div", undefined, { class: "facts" });
    for (const [label, value, cls] of pairs) {
      const item = el("div");
      item.append(el("span", label), el("strong", value, cls ? { class: cls } : {}));
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
        await handler(new FormData(form));
      } catch (failure) {
        if (error) error.textContent = failure.message;
      }
    });
  }

  const offerColumns = [
    ["#", (o) => o.rank],
    ["Lender 贷款机构", (o) => o.lender],
    ["Product 产品", (o) => o.product],
    ["Rate 年利率", (o) => percent(o.annual_rate), "num"],
    ["APR 年化", (o) => percent(o.apr), "num"],
    ["Term 期数", (o) => o.term_months, "num"],
    ["Amount 金额", (o) => money(o.amount), "num"],
    ["Monthly 月供", (o) => money(o.monthly_payment), "num"],
    ["Total cost 总成本", (o) => money(o.total_cost), "num"],
  ];

  return { api, login, logout, token, money, toFen, percent, el, table, facts, onSubmit, offerColumns };
})();
