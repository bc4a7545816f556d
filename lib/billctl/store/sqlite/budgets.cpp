// Budgets: one JSON document per name. A budget whose scope combines two dimensions registers
// that pair's rollup, so evaluating it reads hours of rollup instead of the period's records.
#include "billctl/store/sqlite/adapters.hpp"

namespace billctl::store {

void register_scope_combos(Db& db, const std::vector<budgets::Budget>& list) {
  std::vector<Combo> combos;
  for (const auto& b : list) {
    const auto filters = budgets::scope_filters(b);
    std::vector<usage::Dim> dims;
    for (const auto& f : filters) dims.push_back(f.dim);
    if (auto c = combo_of(dims)) combos.push_back(*c);
  }
  register_combos(db, combos);
}

std::vector<budgets::Budget> SqliteBudgets::list_budgets() {
  std::vector<budgets::Budget> out;
  Stmt s(m_db, "SELECT name, spec FROM budgets ORDER BY name");
  while (s.step()) out.push_back(budgets::from_json(std::string(s.text(1)), "store budget '" + std::string(s.text(0)) + "'"));
  return out;
}

void SqliteBudgets::put_budget(const budgets::Budget& b, util::Seconds now) {
  Transaction t(m_db);
  Stmt put(m_db, "INSERT OR REPLACE INTO budgets(name, spec, updated_at) VALUES(?1, ?2, ?3)");
  const std::string spec = budgets::to_json(b), at = util::format_rfc3339(now);
  put.bind(1, b.name).bind(2, spec).bind(3, at);
  put.step();
  register_scope_combos(m_db, {b});
  t.commit();
}

std::vector<std::string> SqliteBudgets::remove_budgets(const std::vector<std::string>& names) {
  Transaction t(m_db);
  Stmt del(m_db, "DELETE FROM budgets WHERE name = ?1");
  std::vector<std::string> missing;
  for (const auto& name : names) {
    del.bind(1, name);
    del.step();
    del.reset();
    if (m_db.changes() == 0) missing.push_back(name);
  }
  if (missing.empty()) t.commit();  // else the transaction rolls back: all or none
  return missing;
}

void SqliteBudgets::apply_budgets(const std::vector<budgets::Budget>& put, const std::vector<std::string>& remove,
                                util::Seconds now) {
  Transaction t(m_db);
  Stmt del(m_db, "DELETE FROM budgets WHERE name = ?1");
  for (const auto& name : remove) {
    del.bind(1, name);
    del.step();
    del.reset();
  }
  Stmt upsert(m_db, "INSERT INTO budgets(name, spec, updated_at) VALUES(?1, ?2, ?3)"
                    " ON CONFLICT(name) DO UPDATE SET spec = ?2, updated_at = ?3");
  const std::string at = util::format_rfc3339(now);
  for (const auto& b : put) {
    const std::string spec = budgets::to_json(b);
    upsert.bind(1, b.name).bind(2, spec).bind(3, at);
    upsert.step();
    upsert.reset();
  }
  register_scope_combos(m_db, put);
  t.commit();
}

// ---- report templates ----------------------------------------------------------------------------

std::vector<report::ReportTemplate> SqliteTemplates::list_templates() {
  std::vector<report::ReportTemplate> out;
  Stmt s(m_db, "SELECT name, spec FROM report_templates ORDER BY name");
  while (s.step()) out.push_back(report::from_json(std::string(s.text(1)), "store template '" + std::string(s.text(0)) + "'"));
  return out;
}

void SqliteTemplates::put_template(const report::ReportTemplate& t, util::Seconds now) {
  Stmt put(m_db, "INSERT OR REPLACE INTO report_templates(name, spec, updated_at) VALUES(?1, ?2, ?3)");
  const std::string spec = report::to_json(t), at = util::format_rfc3339(now);
  put.bind(1, t.name).bind(2, spec).bind(3, at);
  put.step();
}

bool SqliteTemplates::remove_template(const std::string& name) {
  Stmt del(m_db, "DELETE FROM report_templates WHERE name = ?1");
  del.bind(1, name);
  del.step();
  return m_db.changes() > 0;
}

}  // namespace billctl::store
