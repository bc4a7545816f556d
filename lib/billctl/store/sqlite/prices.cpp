// The user's prices: user_prices (one catalog document per model) and meta.user_catalog_name.
#include "billctl/store/sqlite/adapters.hpp"

#include <map>

namespace billctl::store {

std::vector<pricing::PriceEntry> SqlitePrices::user_prices() {
  std::vector<pricing::PriceEntry> out;
  Stmt s(m_db, "SELECT model, catalog FROM user_prices ORDER BY model");
  while (s.step()) {
    auto entries = pricing::parse_catalog_json(s.text(1), "store user price for '" + std::string(s.text(0)) + "'");
    out.insert(out.end(), entries.begin(), entries.end());
  }
  return out;
}

std::string SqlitePrices::user_catalog_name() {
  Stmt s(m_db, "SELECT value FROM meta WHERE key = 'user_catalog_name'");
  return s.step() ? std::string(s.text(0)) : std::string();
}

size_t SqlitePrices::save_user_prices(const std::vector<pricing::PriceEntry>& entries, const std::string& name,
                                     util::Seconds now) {
  std::map<std::string, std::vector<pricing::PriceEntry>> by_model;
  for (const auto& e : entries) by_model[e.model].push_back(e);
  Transaction t(m_db);
  Stmt put(m_db, "INSERT OR REPLACE INTO user_prices(model, catalog, imported_at) VALUES(?1, ?2, ?3)");
  const std::string at = util::format_rfc3339(now);
  for (const auto& [model, list] : by_model) {
    const std::string json = pricing::to_catalog_json(list, name);
    put.bind(1, model).bind(2, json).bind(3, at);
    put.step();
    put.reset();
  }
  Stmt meta(m_db, "INSERT OR REPLACE INTO meta(key, value) VALUES('user_catalog_name', ?1)");
  meta.bind(1, name);
  meta.step();
  t.commit();
  return by_model.size();
}

}  // namespace billctl::store
