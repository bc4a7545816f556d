// Copying the embedded store's usage to ClickHouse (`billctl store migrate`): import by import,
// each one atomic and tagged with where it came from, so an interrupted copy resumes where it
// stopped and a repeated one changes nothing; then both stores' totals per month are compared.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "billctl/store/clickhouse/usage.hpp"
#include "billctl/store/sqlite/store.hpp"

namespace billctl::store {

struct MonthCheck {
  std::string month;
  usage::Totals from, to;
  bool equal() const { return from == to; }
};

struct MigrateResult {
  size_t imports = 0;          // copied now
  size_t already = 0;          // copied by an earlier run
  uint64_t records = 0;        // copied now
  std::vector<MonthCheck> months;  // every month either store has usage in
  bool verified() const;
};

// `progress` is told the records copied so far.
MigrateResult migrate_usage(SqliteStore& from, ch::ClickHouseUsage& to, const std::function<void(uint64_t)>& progress = {});

}  // namespace billctl::store
