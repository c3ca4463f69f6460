// The lender console: products with their versions and rate cards (each rate drawn beside the
// grade's fair band and the legal cap; a rate over the cap is refused here, before it is sent),
// the pipeline of deals and loans on the lender's products, funding of pending loans (their
// funding gates, then the disbursement to the dealer), and the
// portfolio by grade as a table and a chart; the decision queue (lender_decisions.js), the
// collection queue (collections.js) and the webhook settings (webhooks.js) in their sections.
"use strict";

(() => {
  const { lang, t, label, api, money, toFen, percent, day, moment, el, facts } = Autofin;
  const { $, start, button, table } = Console;
  let policy = null;
  // Brand ids as the reader names them (bmw → 宝马 / BMW), from the catalogue.
  const brands = {};
  const brandName = (id) => brands[id] || id;
  let editing = null; // the product a new version is being made of, else null (a new product)

  // -- rates as the reader types them (percent) and as the API takes them (fractions) --------
  function toFraction(percentText) { return (Number(percentText) / 100).toFixed(6); }
  function toPercentText(fraction) { return String(Number((Number(fraction) * 100).toFixed(4))); }
  function ratio(fraction) { return String(Number((Number(fraction) * 100).toFixed(2))); }
  function yuan(fen) { return String(fen / 100); }

  const form = $("product-form");
  function checkedValues(name) { return [...form.querySelectorAll(`input[name=${name}]:checked`)].map((n) => n.value); }

  // The grid: one cell per sub-grade (A1…G5), its input and, beside it, the fair band for the
  // product's vehicle types and the legal cap.
  function drawRateGrid(card = {}) {
    const types = checkedValues("vehicle_types");
    const cells = policy.ladder.map((rung) => {
      const id = `rate-${rung.grade}`;
      const cell = el("div", undefined, { class: "rate-cell" });
      const input = el("input", undefined, {
        id, name: `rate.${rung.grade}`, type: "number", min: "0", step: "0.01", inputmode: "decimal",
        "aria-describedby": `${id}-band ${id}-flag`,
      });
      if (card[rung.grade] !== undefined) input.value = toPercentText(card[rung.grade]);
      const bands = [];
      if (types.includes("new") || !types.length) bands.push(t("lender.band_new", { low: percent(rung.benchmark_rate_new), high: percent(rung.max_fair_rate_new) }));
      if (types.includes("used")) bands.push(t("lender.band_used", { low: percent(rung.benchmark_rate_used), high: percent(rung.max_fair_rate_used) }));
      bands.push(t("lender.cap", { cap: percent(policy.legal_cap_apr) }));
      const band = el("span", bands.join(" · "), { id: `${id}-band`, class: "band" });
      const flag = el("span", "", { id: `${id}-flag`, class: "flag" });
      cell.append(el("label", rung.grade, { for: id }), input, band, flag);
      input.addEventListener("input", () => judge(rung, input, cell, flag));
      judge(rung, input, cell, flag);
      return cell;
    });
    $("rate-grid").replaceChildren(...cells);
  }

  function fairCeiling(rung) {
    const types = checkedValues("vehicle_types");
    const ceilings = [];
    if (types.includes("new") || !types.length) ceilings.push(Number(rung.max_fair_rate_new));
    if (types.includes("used")) ceilings.push(Number(rung.max_fair_rate_used));
    return Math.min(...ceilings);
  }

  // Over the legal cap: refused before sending. Over the fair band: allowed, but flagged.
  function judge(rung, input, cell, flag) {
    cell.classList.remove("over-cap", "over-fair");
    input.removeAttribute("aria-invalid");
    flag.textContent = "";
    if (input.value === "") return;
    const rate = Number(input.value) / 100;
    if (rate > Number(policy.legal_cap_apr)) {
      cell.classList.add("over-cap");
      input.setAttribute("aria-invalid", "true");
      flag.textContent = t("lender.over_cap");
    } else if (rate > fairCeiling(rung)) {
      cell.classList.add("over-fair");
      flag.textContent = t("lender.over_fair");
    }
  }

  for (const box of form.querySelectorAll("input[name=vehicle_types]")) {
    box.addEventListener("change", () => drawRateGrid(readCard()));
  }

  function readCard() {
    const card = {};
    for (const rung of policy.ladder) {
      const value = form.elements[`rate.${rung.grade}`]?.value;
      if (value !== undefined && value !== "") card[rung.grade] = toFraction(value);
    }
    return card;
  }

  function readTerms() {
    const data = new FormData(form);
    return {
      name: data.get("name").trim(),
      method: data.get("method"),
      terms_months: checkedValues("terms").map(Number),
      min_amount: toFen(data.get("min_amount")),
      max_amount: toFen(data.get("max_amount")),
      max_ltv: (Number(data.get("max_ltv")) / 100).toFixed(4),
      min_down_payment_ratio: (Number(data.get("min_down_payment_ratio")) / 100).toFixed(4),
      upfront_fee: toFen(data.get("upfront_fee")),
      rate_card: readCard(),
      vehicle_types: checkedValues("vehicle_types"),
      platform_guarantee: form.elements.platform_guarantee.checked,
      auto_fund: form.elements.auto_fund.checked,
    };
  }

  function fillForm(product) {
    form.elements.name.value = product.name;
    form.elements.method.value = product.method;
    form.elements.min_amount.value = yuan(product.min_amount);
    form.elements.max_amount.value = yuan(product.max_amount);
    form.elements.max_ltv.value = ratio(product.max_ltv);
    form.elements.min_down_payment_ratio.value = ratio(product.min_down_payment_ratio);
    form.elements.upfront_fee.value = yuan(product.upfront_fee);
    for (const box of form.querySelectorAll("input[name=terms]")) box.checked = product.terms_months.includes(Number(box.value));
    for (const box of form.querySelectorAll("input[name=vehicle_types]")) box.checked = product.vehicle_types.includes(box.value);
    form.elements.platform_guarantee.checked = product.platform_guarantee;
    form.elements.auto_fund.checked = product.auto_fund;
    drawRateGrid(product.rate_card);
  }

  function editorFor(product, { focus = true } = {}) {
    editing = product;
    $("editor-heading").textContent = product
      ? t("lender.new_version_of", { name: product.name, version: product.version + 1 })
      : t("lender.new_product");
    $("product-submit").textContent = product ? t("lender.publish_version") : t("lender.publish");
    form.querySelector(".error").textContent = "";
    if (product) fillForm(product); else { form.reset(); drawRateGrid(); }
    if (focus) $("editor-heading").focus();
  }

  Autofin.onSubmit(form, async () => {
    $("product-note").textContent = "";
    const overCap = [...form.querySelectorAll(".rate-cell.over-cap input")];
    if (overCap.length) {
      overCap[0].focus();
      throw new Error(t("lender.refused_over_cap", { grades: overCap.map((n) => n.id.slice(5)).join("、"), cap: percent(policy.legal_cap_apr) }));
    }
    if (!form.checkValidity()) { form.reportValidity(); throw new Error(t("lender.fill_in")); }
    const terms = readTerms();
    if (!Object.keys(terms.rate_card).length) throw new Error(t("lender.no_rates"));
    const saved = editing
      ? await api("PATCH", `/v1/lender/products/${editing.id}`, terms)
      : await api("POST", "/v1/lender/products", terms);
    $("product-note").textContent = t("lender.published", { name: saved.name, version: saved.version });
    editing = saved;
    $("editor-heading").textContent = t("lender.new_version_of", { name: saved.name, version: saved.version + 1 });
    $("product-submit").textContent = t("lender.publish_version");
    await Promise.all([showProducts(), showVersions(saved.id)]);
  });
  $("product-reset").addEventListener("click", () => editorFor(null));

  // -- products and their versions -------------------------------------------------------------
  function rateRange(card) {
    const rates = Object.values(card).map(Number);
    if (!rates.length) return "—";
    return `${percent(Math.min(...rates))} – ${percent(Math.max(...rates))}（${t("lender.grades_count", { count: rates.length })}）`;
  }

  async function showProducts() {
    const page = await api("GET", "/v1/lender/products?limit=100");
    const errors = $("products-error");
    $("product-list").replaceChildren(table(page.items, [
      ["lender.product_name", (p) => p.name],
      ["lender.version", (p) => `v${p.version}`, "num"],
      ["common.status", (p) => label("product_status", p.status)],
      ["lender.rates", (p) => rateRange(p.rate_card)],
      ["lender.terms", (p) => p.terms_months.join("/")],
      ["lender.actions", (p) => {
        const box = el("div", undefined, { class: "actions" });
        box.append(button("lender.versions", () => showVersions(p.id), errors, { class: "secondary", "aria-label": t("lender.versions_of", { name: p.name }) }));
        if (p.status === "active") {
          box.append(
            button("lender.new_version", async () => editorFor(p), errors, { "aria-label": t("lender.new_version_of_short", { name: p.name }) }),
            button("lender.retire", async () => { await api("POST", `/v1/lender/products/${p.id}/retire`); await showProducts(); }, errors, { class: "secondary", "aria-label": t("lender.retire_named", { name: p.name }) }),
          );
        }
        return box;
      }],
    ], "lender.products_caption"));
  }

  async function showVersions(productId) {
    const product = await api("GET", `/v1/lender/products/${productId}`);
    $("versions").replaceChildren(table([...product.versions].reverse(), [
      ["lender.version", (v) => `v${v.version}`, "num"],
      ["lender.published_at", (v) => moment(v.created_at)],
      ["lender.product_name", (v) => v.name],
      ["lender.terms", (v) => v.terms_months.join("/")],
      ["lender.amounts", (v) => `${money(v.min_amount)} – ${money(v.max_amount)}`],
      ["lender.rates", (v) => rateRange(v.rate_card)],
    ], t("lender.versions_caption", { name: product.name })));
  }

  // -- pipeline and funding -----------------------------------------------------------------------
  async function showPipeline() {
    const [deals, loans] = await Promise.all([
      api("GET", "/v1/lender/pipeline?limit=50"),
      api("GET", "/v1/lender/loans?limit=100"),
    ]);
    $("deals").replaceChildren(table(deals.items, [
      ["dealer.created", (d) => moment(d.created_at)],
      ["lender.dealer", (d) => d.dealer_name],
      ["common.buyer", (d) => d.buyer_name_masked],
      ["offer.product", (d) => `${d.quote.product} v${d.quote.product_version}`],
      ["dealer.car", (d) => `${brandName(d.vehicle.make)} ${d.vehicle.model}`],
      ["dealer.loan", (d) => money(d.quote.amount), "num"],
      ["offer.rate", (d) => percent(d.quote.annual_rate), "num"],
      ["common.grade", (d) => d.quote.grade],
      ["common.status", (d) => label("deal_status", d.status)],
    ], "lender.deals_caption"));
    $("loans").replaceChildren(table(loans.items, [
      ["lender.loan_date", (l) => day(l.loan_date)],
      ["lender.dealer", (l) => (l.dealer ? l.dealer.name : "—")],
      ["common.grade", (l) => l.grade],
      ["lender.principal", (l) => money(l.principal), "num"],
      ["offer.rate", (l) => percent(l.annual_rate), "num"],
      ["offer.term", (l) => l.term_months, "num"],
      ["common.status", (l) => label("loan_status", l.status)],
      ["lender.bucket", (l) => label("bucket", l.bucket)],
      ["lender.balance", (l) => money(l.balance), "num"],
    ], "lender.loans_caption"));
    const pending = loans.items.filter((l) => l.status === "pending_funding");
    // Each loan the lender funds itself, with its funding gates (each held or still missing).
    const funding = Object.fromEntries(await Promise.all(pending.filter((l) => !l.auto_fund)
      .map(async (l) => [l.id, await api("GET", `/v1/lender/loans/${l.id}/funding`)])));
    $("pending").replaceChildren(table(pending, [
      ["lender.loan_date", (l) => day(l.loan_date)],
      ["lender.dealer", (l) => (l.dealer ? l.dealer.name : "—")],
      ["dealer.car", (l) => [brandName(l.vehicle.make), l.vehicle.model].filter(Boolean).join(" ") || "—"],
      ["lender.principal", (l) => money(l.principal), "num"],
      ["common.grade", (l) => l.grade],
      ["lender.gates", (l) => (l.auto_fund ? "—" : gateList(funding[l.id].gates))],
      ["lender.actions", (l) => (l.auto_fund ? t("lender.auto_funded") : fundButton(l, funding[l.id]))],
    ], "lender.pending_caption"));
  }

  function gateList(gates) {
    const list = el("ul", undefined, { class: "gates" });
    for (const gate of gates) {
      const state = t(gate.satisfied ? "lender.gate_held" : "lender.gate_missing");
      list.append(el("li", `${gate.satisfied ? "✓" : "✗"} ${label("gate", gate.name)}：${state}`, {
        class: gate.satisfied ? "ok" : "warn", "data-gate": gate.name,
      }));
    }
    return list;
  }

  function fundButton(loan, funding) {
    const node = button("lender.fund", async () => {
      const funded = await api("POST", `/v1/lender/loans/${loan.id}/fund`);
      const paid = funded.disbursement;
      $("funding-result").textContent = t("lender.funded", {
        amount: money(paid.amount), status: label("disbursement", paid.status),
      });
      await Promise.all([showPipeline(), showPortfolio()]);
    }, $("funding-error"), { "aria-label": t("lender.fund_named", { amount: money(loan.principal) }) });
    // Every gate must hold first; the API would refuse (409 funding_gates_open) anyway.
    if (!funding.ready) node.disabled = true;
    return node;
  }

  // -- portfolio: a table and a chart of predicted beside realised default -----------------------
  let chart = null;
  function rate(value) { return value === null || value === undefined ? "—" : percent(value); }

  async function showPortfolio() {
    const portfolio = await api("GET", "/v1/lender/portfolio");
    $("portfolio-facts").replaceChildren(facts([
      ["lender.loan_count", String(portfolio.count)],
      ["lender.balance", money(portfolio.outstanding_balance)],
      ["lender.default_rate", percent(portfolio.default_rate)],
      ["lender.guarantee_exposure", money(portfolio.platform_guarantee_exposure)],
    ]));
    const buckets = ["current", "1-30", "31-60", "61-90", "90+"];
    $("portfolio-table").replaceChildren(table(portfolio.grades, [
      ["common.grade", (g) => g.grade],
      ["lender.loan_count", (g) => g.count, "num"],
      ["lender.active", (g) => g.active, "num"],
      ["lender.balance", (g) => money(g.outstanding_balance), "num"],
      ...buckets.map((b) => [`bucket.${b}`, (g) => g.buckets[b] ?? 0, "num"]),
      ["lender.default_rate", (g) => percent(g.default_rate), "num"],
      ["lender.predicted", (g) => percent(g.predicted_default_rate), "num"],
      ["lender.realised", (g) => `${rate(g.realised_default_rate)}（${g.loans_a_year_on_book}）`, "num"],
    ], "lender.portfolio_caption"));
    const labels = portfolio.grades.map((g) => g.grade);
    const toPercent = (v) => (v === null || v === undefined ? null : Number(v) * 100);
    const data = {
      labels,
      datasets: [
        { label: t("lender.predicted"), data: portfolio.grades.map((g) => toPercent(g.predicted_default_rate)), backgroundColor: "#0b6e4f" },
        { label: t("lender.realised"), data: portfolio.grades.map((g) => toPercent(g.realised_default_rate)), backgroundColor: "#b3261e" },
        { label: t("lender.default_rate"), data: portfolio.grades.map((g) => toPercent(g.default_rate)), backgroundColor: "#5b6b7c" },
      ],
    };
    if (chart) chart.destroy();
    chart = new window.Chart($("portfolio-chart"), {
      type: "bar",
      data,
      options: {
        animation: false,
        datasets: { bar: { maxBarThickness: 40 } },
        maintainAspectRatio: false,
        locale: lang,
        scales: { y: { beginAtZero: true, title: { display: true, text: t("lender.default_axis") } } },
        plugins: { title: { display: true, text: t("lender.chart_label") } },
      },
    });
  }

  start({
    role: "lender",
    async onSignedIn() {
      const [loaded, catalogue] = await Promise.all([api("GET", "/v1/lender/policy"), api("GET", "/v1/brands?limit=100")]);
      policy = loaded;
      for (const brand of catalogue.items) brands[brand.id] = lang === "en" ? brand.name_en : brand.name_zh;
      editorFor(null, { focus: false });
      // The decision queue, the collection queue and the webhook settings are modules of their
      // own, mounted into their sections once the lender is in.
      AutofinLenderDecisions.mount($("decisions"), Autofin);
      await Promise.all([
        showProducts(), showPipeline(), showPortfolio(),
        // A queue that cannot load says why in its section; the rest of the console still works.
        AutofinCollections.mount($("collections"), api, { audience: "lender" })
          .catch((failure) => $("collections").append(el("p", failure.message, { class: "error", role: "alert" }))),
        AutofinLenderCollateral.mount($("collateral"), api)
          .catch((failure) => $("collateral").append(el("p", failure.message, { class: "error", role: "alert" }))),
        AutofinWebhooks.mount($("settings"), api, "lender"),
      ]);
    },
  });
  $("refresh").addEventListener("click", () => showPipeline());
})();
