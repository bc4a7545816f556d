// The billing API's GraphQL schema (docs/schema.graphql) and its resolvers over the domain:
// usage, the monthly report, budgets, credits, invoices and plans, with the tenant boundary and
// the permission matrix enforced in every resolver, whatever the query asks.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "billctl/billing/invoice.hpp"
#include "billctl/budgets/budget_store.hpp"
#include "billctl/credits/ledger.hpp"
#include "billctl/graphql/schema.hpp"
#include "billctl/serve/access.hpp"
#include "billctl/usage/source.hpp"

namespace billctl::serve {

// What the resolvers read and change; the server owns them and serialises requests on them.
struct Services {
  usage::Source* usage = nullptr;
  budgets::BudgetStore* budgets = nullptr;
  credits::Ledger* ledger = nullptr;
  billing::Invoices* invoices = nullptr;
  billing::InvoiceStore* invoice_store = nullptr;  // plan assignments as stored
  AccessStore* access = nullptr;
  std::vector<billing::Plan> plans;
  std::function<util::Seconds()> now;
  // A number that changes whenever stored usage changes (credits::LedgerStore::usage_version):
  // aggregations are answered from a cache until it does. None: no cache.
  std::function<int64_t()> usage_version;
  std::string tz = "UTC";  // for budgets set without a time zone
  int week_start = 0;      // for this-week / last-week periods
};

// The SDL, as `billctl serve --schema` prints it.
const std::string& billing_sdl();

// The schema with every root field resolved through `services`. The context of each execution
// is a `const Caller*`.
std::unique_ptr<graphql::Schema> billing_schema(Services& services);

}  // namespace billctl::serve
