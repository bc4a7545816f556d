// Where usage is read from: the interface reports, budgets, credits and invoices aggregate through
// (SPEC §11). The embedded store, export files and ClickHouse each implement it; none of its
// callers sees SQL.
#pragma once

#include <string>
#include <vector>

#include "billctl/usage/aggregate.hpp"

namespace billctl::usage {

// The identity of a price catalog that priced usage (pricing::CatalogInfo).
struct CatalogInfo {
  std::string name;     // "builtin" or "builtin+acme"
  std::string hash;     // sha256 of the canonical form of every entry, 64 hex digits
  std::string as_of;    // the newest as_of of any entry
  size_t models = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Runs every query; one result per query, in the same order.
  virtual std::vector<AggResult> aggregate(const std::vector<AggQuery>& queries) = 0;
  // The catalogs that priced the usage of [begin, end), newest first.
  virtual std::vector<CatalogInfo> catalogs_used(util::Seconds begin, util::Seconds end) = 0;
  // Might any record of [begin, end) name a session? A store that knows cheaply says no, so the
  // report does not read every record to count sessions there are none of.
  virtual bool may_have_sessions(util::Seconds /*begin*/, util::Seconds /*end*/) { return true; }
};

}  // namespace billctl::usage
