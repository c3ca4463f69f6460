// The platform admin's console: organisations (create lenders and dealers, whose credit code the
// server checks; suspend, reactivate), their members and API keys (a new key is shown once;
// revoke), advisors, the brand catalogue, the risk policy in force with its price ladder, the
// scorecards (activate a champion, set or clear the challenger, the monitoring report), the
// platform guarantee (exposure, claims paid, reserve) and the audit log, searchable by subject
// and actor.
"use strict";

(() => {
  const { t, label, api, money, percent, day, moment, el, facts } = Autofin;
  const { $, start, button, table, pager } = Console;
  let selected = null; // the organisation whose members and keys are shown

  const list = (text) => text.split(/[,，、]/).map((s) => s.trim()).filter(Boolean);

  // -- organisations ---------------------------------------------------------------------------
  const organizations = pager($("org-list"), (offset) => api("GET", `/v1/admin/organizations?limit=20&offset=${offset}`), (items) => table(items, [
    ["admin.kind", (o) => label("org_kind", o.kind)],
    ["admin.org_name", (o) => o.name],
    ["admin.uscc", (o) => o.uscc],
    ["admin.city", (o) => o.city || "—"],
    ["common.status", (o) => label("org_status", o.status)],
    ["lender.actions", (o) => {
      const box = el("div", undefined, { class: "actions" });
      box.append(button("admin.manage", () => selectOrganization(o), $("orgs-error"), { class: "secondary", "aria-label": t("admin.manage_named", { name: o.name }) }));
      const action = o.status === "active" ? "suspend" : "reactivate";
      box.append(button(`admin.${action}`, async () => {
        await api("POST", `/v1/admin/organizations/${o.id}/${action}`);
        await organizations.show();
      }, $("orgs-error"), { "aria-label": t(`admin.${action}_named`, { name: o.name }) }));
      return box;
    }],
  ], "admin.organizations_caption"));

  Autofin.onSubmit($("lender-form"), async (data) => {
    const made = await api("POST", "/v1/admin/lenders", { name: data.get("name"), uscc: data.get("uscc") });
    $("lender-form").reset();
    $("org-note").textContent = t("admin.created", { name: made.name });
    await organizations.reset();
  });
  Autofin.onSubmit($("dealer-form"), async (data) => {
    const made = await api("POST", "/v1/admin/dealers", {
      name: data.get("name"), uscc: data.get("uscc"), city: data.get("city"), brands: list(data.get("brands")),
    });
    $("dealer-form").reset();
    $("org-note").textContent = t("admin.created", { name: made.name });
    await organizations.reset();
  });

  async function selectOrganization(organization) {
    selected = organization;
    $("organization").hidden = false;
    $("new-key").hidden = true;
    $("organization-heading").textContent = t("admin.organization_heading", { name: organization.name });
    await Promise.all([showMembers(), showKeys()]);
    $("organization-heading").focus();
  }

  async function showMembers() {
    const page = await api("GET", `/v1/admin/organizations/${selected.id}/members?limit=100`);
    $("member-list").replaceChildren(table(page.items, [
      ["buyer.full_name", (m) => m.full_name],
      ["common.email", (m) => m.email],
      ["admin.member_role", (m) => label("member_role", m.role)],
    ], "admin.members_heading"));
  }

  async function showKeys() {
    const keys = await api("GET", `/v1/admin/organizations/${selected.id}/api-keys`);
    $("key-list").replaceChildren(table(keys, [
      ["admin.key_name", (k) => k.name],
      ["admin.key_prefix", (k) => `${k.prefix}…`],
      ["admin.issued_at", (k) => moment(k.created_at)],
      ["common.status", (k) => (k.revoked_at ? t("admin.revoked_at", { when: moment(k.revoked_at) }) : t("admin.key_live"))],
      ["lender.actions", (k) => (k.revoked_at ? "—" : button("admin.revoke", async () => {
        await api("DELETE", `/v1/admin/organizations/${selected.id}/api-keys/${k.id}`);
        $("new-key").hidden = true;
        await showKeys();
      }, $("keys-error"), { "aria-label": t("admin.revoke_named", { name: k.name }) }))],
    ], "admin.keys_heading"));
  }

  Autofin.onSubmit($("member-form"), async (data) => {
    await api("POST", `/v1/admin/organizations/${selected.id}/members`, {
      email: data.get("email"), full_name: data.get("full_name"), password: data.get("password"), role: data.get("role"),
    });
    $("member-form").reset();
    await showMembers();
  });

  Autofin.onSubmit($("key-form"), async (data) => {
    const issued = await api("POST", `/v1/admin/organizations/${selected.id}/api-keys`, { name: data.get("name") });
    $("key-form").reset();
    $("new-key-value").textContent = issued.key;
    $("new-key").hidden = false;
    await showKeys();
  });

  // -- advisors and brands ---------------------------------------------------------------------
  const advisors = pager($("advisor-list"), (offset) => api("GET", `/v1/admin/advisors?limit=20&offset=${offset}`), (items) => table(items, [
    ["buyer.full_name", (a) => a.full_name],
    ["common.email", (a) => a.email],
    ["admin.advised_buyers", (a) => a.buyers, "num"],
    ["admin.since", (a) => moment(a.created_at)],
  ], "admin.advisors_heading"));

  Autofin.onSubmit($("advisor-form"), async (data) => {
    await api("POST", "/v1/admin/advisors", { email: data.get("email"), full_name: data.get("full_name"), password: data.get("password") });
    $("advisor-form").reset();
    await advisors.reset();
  });

  const brands = pager($("brand-list-table"), (offset) => api("GET", `/v1/brands?limit=20&offset=${offset}`), (items) => table(items, [
    ["admin.brand_id", (b) => b.id],
    ["admin.name_zh", (b) => b.name_zh],
    ["admin.name_en", (b) => b.name_en],
    ["admin.aliases", (b) => b.aliases.join("、") || "—"],
  ], "admin.brands_heading"));

  Autofin.onSubmit($("brand-form"), async (data) => {
    await api("POST", "/v1/admin/brands", {
      id: data.get("id").trim(), name_zh: data.get("name_zh"), name_en: data.get("name_en"), aliases: list(data.get("aliases")),
    });
    $("brand-form").reset();
    await brands.show();
  });

  // -- risk policy and scorecards --------------------------------------------------------------
  async function showPolicy() {
    const policy = await api("GET", "/v1/admin/risk/policy");
    $("policy-facts").replaceChildren(facts([
      ["admin.cost_of_funds", percent(policy.cost_of_funds)],
      ["admin.lgd", `${percent(policy.lgd_new)} / ${percent(policy.lgd_used)}`],
      ["admin.servicing_cost", percent(policy.servicing_cost)],
      ["admin.margin", percent(policy.margin)],
      ["admin.fairness_band", percent(policy.fairness_band)],
      ["admin.legal_cap", percent(policy.legal_cap_apr)],
      ["admin.max_ltv", percent(policy.max_ltv)],
      ["admin.max_term", `${policy.max_term_months} / ${policy.used_car_max_term_months}`],
      ["admin.validity_days", String(policy.validity_days)],
      ["admin.min_loan", money(policy.min_loan)],
    ]));
    $("policy-formula").textContent = t("admin.benchmark_formula");
    $("ladder").replaceChildren(table(policy.ladder, [
      ["common.grade", (r) => r.grade],
      ["admin.pd_band", (r) => `${percent(r.pd_lower)} – ${percent(r.pd_upper)}`, "num"],
      ["admin.benchmark_new", (r) => percent(r.benchmark_rate_new), "num"],
      ["admin.max_fair_new", (r) => percent(r.max_fair_rate_new), "num"],
      ["admin.benchmark_used", (r) => percent(r.benchmark_rate_used), "num"],
      ["admin.max_fair_used", (r) => percent(r.max_fair_rate_used), "num"],
    ], "admin.ladder_caption"));
  }

  async function showScorecards() {
    const page = await api("GET", "/v1/admin/scorecards?limit=100");
    const errors = $("scorecards-error");
    const refresh = () => Promise.all([showScorecards(), showMonitor()]);
    $("scorecard-list").replaceChildren(table(page.items, [
      ["admin.version", (c) => c.version],
      ["admin.card_role", (c) => label("scorecard_role", c.role)],
      ["admin.description", (c) => c.description || "—"],
      ["admin.calibrated", (c) => (c.calibrated ? t("admin.yes") : t("admin.no"))],
      ["admin.published_at", (c) => moment(c.published_at)],
      ["lender.actions", (c) => {
        const box = el("div", undefined, { class: "actions" });
        box.append(button("admin.report", () => showCard(c.version), errors, { class: "secondary", "aria-label": t("admin.report_named", { version: c.version }) }));
        if (c.role !== "champion") {
          box.append(button("admin.activate", async () => {
            await api("POST", `/v1/admin/scorecards/${encodeURIComponent(c.version)}/activate`);
            await refresh();
          }, errors, { "aria-label": t("admin.activate_named", { version: c.version }) }));
        }
        if (c.role === "candidate") {
          box.append(button("admin.make_challenger", async () => {
            await api("POST", `/v1/admin/scorecards/${encodeURIComponent(c.version)}/challenger`);
            await refresh();
          }, errors, { class: "secondary", "aria-label": t("admin.make_challenger_named", { version: c.version }) }));
        }
        if (c.role === "challenger") {
          box.append(button("admin.clear_challenger", async () => {
            await api("DELETE", "/v1/admin/scorecards/challenger");
            await refresh();
          }, errors, { class: "secondary" }));
        }
        return box;
      }],
    ], "admin.scorecards_caption"));
  }

  // A card's report: what it bins and the sample it was developed on.
  async function showCard(version) {
    const card = await api("GET", `/v1/admin/scorecards/${encodeURIComponent(version)}`);
    const development = card.card.development || {};
    const pairs = [
      ["admin.version", card.version],
      ["admin.card_role", label("scorecard_role", card.role)],
      ["admin.attributes", card.attributes.join(", ")],
      ["admin.uses_structure", card.uses_structure ? t("admin.yes") : t("admin.no")],
      ["admin.calibrated", card.calibrated ? t("admin.yes") : t("admin.no")],
    ];
    if (development.sample_bad_rate !== undefined) pairs.push(["admin.sample_bad_rate", percent(development.sample_bad_rate)]);
    if (development.population_bad_rate !== undefined) pairs.push(["admin.population_bad_rate", percent(development.population_bad_rate)]);
    const box = [el("h3", t("admin.report_of", { version })), facts(pairs)];
    if (card.description) box.push(el("p", card.description, { class: "note" }));
    $("scorecard-detail").replaceChildren(...box);
  }

  async function showMonitor() {
    try {
      const report = await api("GET", "/v1/admin/risk/monitor");
      $("monitor").replaceChildren(
        facts([
          ["admin.as_of", report.as_of],
          ["admin.champion", report.scorecard_version],
          ["admin.psi", report.psi === null ? "—" : String(report.psi)],
          ["admin.stability", label("stability", report.stability)],
          ["admin.loans_observed", `${report.loans_observed} / ${report.loans_booked}`],
        ]),
        table(report.grades, [
          ["common.grade", (g) => g.grade],
          ["admin.loans", (g) => g.loans, "num"],
          ["lender.predicted", (g) => percent(g.predicted_default_rate), "num"],
          ["lender.realised", (g) => percent(g.realised_default_rate), "num"],
        ], "admin.monitor_heading"),
      );
    } catch (failure) {
      $("monitor").replaceChildren(el("p", failure.message, { class: "note" }));
    }
  }

  // -- the platform guarantee: exposure, claims paid and the reserve behind them ---------------
  async function showGuarantee() {
    const view = await api("GET", "/v1/admin/guarantee?limit=20");
    const reserve = view.reserve;
    $("guarantee-facts").replaceChildren(facts([
      ["admin.guaranteed_loans", String(view.guaranteed_loans)],
      ["admin.guaranteed_outstanding", money(view.guaranteed_outstanding)],
      ["admin.claims_count", String(view.claims_count)],
      ["admin.claims_paid", money(view.claims_paid)],
      ["admin.reserve_provisioned", money(reserve.provisioned)],
      ["admin.reserve_recovered", money(reserve.recovered)],
      ["admin.reserve_balance", money(reserve.balance), reserve.balance < 0 ? "bad" : ""],
    ]));
    $("guarantee-claims").replaceChildren(table(view.claims, [
      ["admin.paid_on", (c) => day(c.paid_on)],
      ["admin.loan", (c) => c.loan_id],
      ["admin.claim_principal", (c) => money(c.principal), "num"],
      ["admin.claim_interest", (c) => money(c.interest), "num"],
      ["admin.claim_amount", (c) => money(c.amount), "num"],
    ], "admin.claims_heading"));
  }

  // -- audit log -------------------------------------------------------------------------------
  let auditFilter = new URLSearchParams();
  const audit = pager($("audit-list"), (offset) => {
    const query = new URLSearchParams(auditFilter);
    query.set("limit", "20");
    query.set("offset", String(offset));
    return api("GET", `/v1/admin/audit-log?${query}`);
  }, (items) => table(items, [
    ["admin.when", (e) => moment(e.occurred_at)],
    ["admin.actor_short", (e) => e.actor],
    ["admin.action", (e) => e.action],
    ["admin.subject", (e) => `${e.subject_type}:${e.subject_id}`],
    ["admin.change", (e) => (e.after ? JSON.stringify(e.after) : "—")],
  ], "admin.audit_heading"));

  Autofin.onSubmit($("audit-form"), async (data) => {
    auditFilter = new URLSearchParams();
    for (const name of ["subject_id", "actor"]) {
      const value = data.get(name).trim();
      if (value) auditFilter.set(name, value);
    }
    await audit.reset();
  });

  start({
    role: "admin",
    onSignedIn: () => Promise.all([
      organizations.show(), advisors.show(), brands.show(), showPolicy(), showScorecards(), showMonitor(),
      showGuarantee(), audit.show(),
      Autofin.fillBrands($("brand-list")),
    ]),
  });
})();
