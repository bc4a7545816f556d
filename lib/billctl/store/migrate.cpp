#include "billctl/store/migrate.hpp"

#include <algorithm>
#include <climits>
#include <map>

namespace billctl::store {

bool MigrateResult::verified() const {
  for (const auto& m : months)
    if (!m.equal()) return false;
  return true;
}

MigrateResult migrate_usage(SqliteStore& from, ch::ClickHouseUsage& to, const std::function<void(uint64_t)>& progress) {
  MigrateResult res;
  // Imports are known by the store file and their number there.
  const std::string prefix = "sqlite:" + from.path() + "#";
  std::vector<std::string> done = to.origins(prefix);
  std::sort(done.begin(), done.end());
  std::vector<ingest::LoggedImport> imports = from.stored_imports();
  // Records whose import is not logged (none in a store billctl made) go last, as import 0.
  ingest::LoggedImport rest;
  rest.log.id = 0;
  imports.push_back(rest);
  for (const auto& imp : imports) {
    const std::string origin = prefix + std::to_string(imp.log.id);
    if (std::binary_search(done.begin(), done.end(), origin)) {
      if (imp.log.id != 0) ++res.already;
      continue;
    }
    uint64_t copied = 0;
    to.copy_import(imp, origin, [&](ingest::RecordSink& sink) {
      from.scan_import_records(imp.log.id, [&](const usage::PricedRecord& r) {
        sink.put(r);
        ++copied;
        if (progress && (res.records + copied) % 65536 == 0) progress(res.records + copied);
      });
    });
    if (imp.log.id == 0 && copied == 0) continue;
    ++res.imports;
    res.records += copied;
  }
  if (progress) progress(res.records);
  // Both stores' totals per month, every count and the exact cost.
  usage::AggQuery q;
  q.begin = INT64_MIN / 4;
  q.end = INT64_MAX / 4;
  q.by = {usage::Dim::month};
  const usage::AggResult a = from.usage().aggregate({q})[0], b = to.aggregate({q})[0];
  std::map<std::string, MonthCheck> months;
  for (const auto& g : a.groups) months[g.keys[0]].from = g.totals;
  for (const auto& g : b.groups) months[g.keys[0]].to = g.totals;
  for (auto& [m, c] : months) {
    c.month = m;
    res.months.push_back(c);
  }
  return res;
}

}  // namespace billctl::store
