"""What every domain needs and no domain owns: settings, database, money, errors, identity, the
audit log, rate limits, idempotency, the Stripe gateway, webhooks.

Tenancy, the one rule every repository follows (``marketplace/``, ``dealer_portal/``, here):

- A function that reads or changes rows a tenant owns, on a caller's behalf, takes that tenant
  as a **required keyword argument** (``buyer_id=``, ``lender_id=``, ``dealer_id=``), or a scope
  value where callers of several kinds share it (the collection queue's ``LenderQueue |
  AdvisorQueue``). No tenant argument is optional: ``None`` never means "every tenant".
- Where the platform itself needs every tenant's rows (a job, the admin console, a step of
  its own), that is a **separate function named for it**, ``…_for_platform``
  (``applications.repository.get_for_platform``), or a job's sweep named for what it sweeps
  (``flag_overdue``). Reaching across tenants is then visible at the call site.
- Rows that hang off one already read through a tenant's function (its instalments, notes) are
  read by that row's id.

``tests/security/test_repository_tenancy.py`` hands each tenant-taking function another
tenant's ids; ``test_tenancy_matrix.py`` does the same for every route.
"""
