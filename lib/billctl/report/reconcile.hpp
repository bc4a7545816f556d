// `report reconcile`: billctl's computed cost (catalog prices × stored usage) beside what the
// providers billed (their cost APIs), per provider and the chosen dimensions (day, model,
// project), with the variance and, where billctl can tell, its likely cause.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "billctl/pricing/catalog.hpp"
#include "billctl/providers/pull_store.hpp"
#include "billctl/usage/source.hpp"

namespace billctl::report {

struct ReconcileQuery {
  util::Period period;
  std::vector<std::string> providers = {"openai", "anthropic"};
  std::vector<usage::Dim> by;          // any of day, model, project (provider always comes first)
  money::Decimal tolerance_pct;        // rows beyond it are flagged
};

struct ReconcileRow {
  std::string provider;
  std::vector<std::string> keys;  // one per `by` dimension
  money::Decimal computed, billed;
  money::Decimal variance;              // computed - billed
  std::optional<money::Decimal> pct;    // variance / billed × 100, when billed is not zero
  int64_t unpriced_records = 0;
  bool flagged = false;
  std::string cause;  // empty when within tolerance
};

struct ProviderTotal {
  std::string provider;
  money::Decimal computed, billed, variance;
  std::optional<money::Decimal> pct;
  int64_t provisional_days = 0;  // pulled days of the period the provider may still revise
};

struct Reconciliation {
  std::vector<ReconcileRow> rows;  // by provider, then keys
  std::vector<ProviderTotal> totals;
  money::Currency currency;
};

Reconciliation reconcile(const ReconcileQuery& q, usage::Source& usage, providers::PullLog& pulls,
                         const pricing::Catalog& catalog);

}  // namespace billctl::report
