// Invoices: the document as JSON with its searchable columns, gapless numbers per year, and the
// plan assignments (updated_at holds when billing on the plan starts).
#include "billctl/store/sqlite/adapters.hpp"

namespace billctl::store {

namespace {

std::optional<billing::Invoice> read_invoice(Stmt& s, const std::string& what) {
  if (!s.step()) return std::nullopt;
  billing::Invoice inv = billing::from_json(std::string(s.text(1)), "stored invoice " + what);
  inv.id = s.int64(0);
  return inv;
}

}  // namespace

std::map<std::string, std::string> SqliteInvoices::assignments() {
  std::map<std::string, std::string> out;
  Stmt s(m_db, "SELECT organization, plan FROM plan_assignments ORDER BY organization");
  while (s.step()) out[std::string(s.text(0))] = s.text(1);
  return out;
}

std::map<std::string, util::Seconds> SqliteInvoices::assignment_starts() {
  std::map<std::string, util::Seconds> out;
  Stmt s(m_db, "SELECT organization, updated_at FROM plan_assignments");
  while (s.step())
    if (auto t = util::parse_rfc3339(s.text(1))) out[std::string(s.text(0))] = *t;
  return out;
}

void SqliteInvoices::assign(const std::string& organization, const std::string& plan, util::Seconds start, bool move_start) {
  Stmt s(m_db, move_start ? "INSERT INTO plan_assignments(organization, plan, updated_at) VALUES(?1, ?2, ?3)"
                            " ON CONFLICT(organization) DO UPDATE SET plan = excluded.plan, updated_at = excluded.updated_at"
                          : "INSERT INTO plan_assignments(organization, plan, updated_at) VALUES(?1, ?2, ?3)"
                            " ON CONFLICT(organization) DO UPDATE SET plan = excluded.plan");
  const std::string at = util::format_rfc3339(start);
  s.bind(1, organization).bind(2, plan).bind(3, at);
  s.step();
}

std::optional<std::pair<std::string, std::string>> SqliteInvoices::open_invoice(const std::string& organization,
                                                                                const std::string& period) {
  Stmt s(m_db, "SELECT number, status FROM invoices WHERE organization = ?1 AND period = ?2 AND status != 'void'");
  s.bind(1, organization).bind(2, period);
  if (!s.step()) return std::nullopt;
  return std::pair<std::string, std::string>(s.text(0), s.text(1));
}

int64_t SqliteInvoices::next_number(int year) {
  Stmt n(m_db, "INSERT INTO invoice_numbers(year, last) VALUES(?1, 1) ON CONFLICT(year) DO UPDATE SET last = last + 1 RETURNING last");
  n.bind(1, int64_t(year));
  n.step();
  return n.int64(0);
}

int64_t SqliteInvoices::insert(const billing::Invoice& inv) {
  Stmt ins(m_db,
           "INSERT INTO invoices(number, organization, period, status, created_at, due_at, total, currency, doc)"
           " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  const std::string total = inv.total.to_string(inv.currency.minor_units), doc = billing::to_json(inv);
  const std::string curname(inv.currency.name());
  ins.bind(1, inv.number).bind(2, inv.organization).bind(3, inv.period).bind(4, inv.status).bind(5, inv.created_at);
  ins.bind(6, inv.due_at).bind(7, total).bind(8, curname).bind(9, doc);
  ins.step();
  return m_db.last_rowid();
}

void SqliteInvoices::update(const billing::Invoice& inv) {
  Stmt s(m_db, "UPDATE invoices SET status = ?1, due_at = ?2, doc = ?3 WHERE id = ?4");
  const std::string doc = billing::to_json(inv);
  s.bind(1, inv.status).bind(2, inv.due_at).bind(3, doc).bind(4, inv.id);
  s.step();
}

std::optional<billing::Invoice> SqliteInvoices::find_by_id(int64_t id) {
  Stmt s(m_db, "SELECT id, doc FROM invoices WHERE id = ?1");
  s.bind(1, id);
  return read_invoice(s, std::to_string(id));
}

std::optional<billing::Invoice> SqliteInvoices::find_by_number(const std::string& number) {
  Stmt s(m_db, "SELECT id, doc FROM invoices WHERE number = ?1");
  s.bind(1, number);
  return read_invoice(s, number);
}

std::vector<billing::Invoice> SqliteInvoices::list(const std::string& period, const std::string& organization) {
  std::string sql = "SELECT id, doc FROM invoices WHERE 1";
  if (!period.empty()) sql += " AND period = ?1";
  if (!organization.empty()) sql += " AND organization = ?2";
  sql += " ORDER BY number";
  Stmt s(m_db, sql.c_str());
  if (!period.empty()) s.bind(1, period);
  if (!organization.empty()) s.bind(2, organization);
  std::vector<billing::Invoice> out;
  while (s.step()) {
    billing::Invoice inv = billing::from_json(std::string(s.text(1)), "stored invoice #" + std::to_string(s.int64(0)));
    inv.id = s.int64(0);
    out.push_back(std::move(inv));
  }
  return out;
}

}  // namespace billctl::store
