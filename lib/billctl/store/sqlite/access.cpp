// billctl serve's records: clients, the mutation log, plan change requests.
#include "billctl/store/sqlite/adapters.hpp"

namespace billctl::store {

namespace {

serve::Client client_of(const Stmt& s) {
  serve::Client c;
  c.name = std::string(s.text(0));
  c.organization = std::string(s.text(1));
  c.role = serve::find_role(s.text(2)).value_or(serve::Role::billing_contact);
  c.scope = std::string(s.text(3));
  c.secret_hash = std::string(s.text(4));
  c.created_at = s.int64(5);
  return c;
}

constexpr const char* k_client_columns = "SELECT name, organization, role, scope, secret_hash, created_at FROM serve_clients";

serve::MutationRecord mutation_of(const Stmt& s) {
  serve::MutationRecord m;
  m.seq = s.int64(0);
  m.idempotency_key = std::string(s.text(1));
  m.at = s.int64(2);
  m.actor = std::string(s.text(3));
  m.organization = std::string(s.text(4));
  m.mutation = std::string(s.text(5));
  m.request = std::string(s.text(6));
  m.result = std::string(s.text(7));
  return m;
}

constexpr const char* k_mutation_columns =
    "SELECT seq, idempotency_key, at, actor, organization, mutation, request, result FROM serve_mutations";

}  // namespace

bool SqliteAccess::add_client(const serve::Client& c) {
  Stmt s(m_db, "INSERT OR IGNORE INTO serve_clients(name, organization, role, scope, secret_hash, created_at)"
               " VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  const std::string role(serve::role_name(c.role));
  s.bind(1, c.name).bind(2, c.organization).bind(3, role).bind(4, c.scope).bind(5, c.secret_hash).bind(6, c.created_at);
  s.step();
  return m_db.changes() == 1;
}

std::optional<serve::Client> SqliteAccess::find_client(const std::string& name) {
  Stmt s(m_db, (std::string(k_client_columns) + " WHERE name = ?1").c_str());
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return client_of(s);
}

std::vector<serve::Client> SqliteAccess::list_clients() {
  std::vector<serve::Client> out;
  Stmt s(m_db, (std::string(k_client_columns) + " ORDER BY name").c_str());
  while (s.step()) out.push_back(client_of(s));
  return out;
}

bool SqliteAccess::remove_client(const std::string& name) {
  Stmt s(m_db, "DELETE FROM serve_clients WHERE name = ?1");
  s.bind(1, name);
  s.step();
  return m_db.changes() == 1;
}

std::optional<serve::MutationRecord> SqliteAccess::find_mutation(const std::string& actor, const std::string& key) {
  Stmt s(m_db, (std::string(k_mutation_columns) + " WHERE actor = ?1 AND idempotency_key = ?2").c_str());
  s.bind(1, actor).bind(2, key);
  if (!s.step()) return std::nullopt;
  return mutation_of(s);
}

void SqliteAccess::record_mutation(const serve::MutationRecord& m) {
  Stmt s(m_db, "INSERT INTO serve_mutations(idempotency_key, at, actor, organization, mutation, request, result)"
               " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  s.bind(1, m.idempotency_key).bind(2, m.at).bind(3, m.actor).bind(4, m.organization).bind(5, m.mutation);
  s.bind(6, m.request).bind(7, m.result);
  s.step();
}

std::vector<serve::MutationRecord> SqliteAccess::mutations(size_t limit) {
  std::vector<serve::MutationRecord> out;
  Stmt s(m_db, (std::string(k_mutation_columns) + " ORDER BY seq DESC LIMIT ?1").c_str());
  s.bind(1, int64_t(limit));
  while (s.step()) out.push_back(mutation_of(s));
  return out;
}

int64_t SqliteAccess::add_plan_request(const serve::PlanRequest& r) {
  Stmt s(m_db, "INSERT INTO serve_plan_requests(organization, plan, actor, note, at) VALUES(?1, ?2, ?3, ?4, ?5)");
  s.bind(1, r.organization).bind(2, r.plan).bind(3, r.actor).bind(4, r.note).bind(5, r.at);
  s.step();
  return m_db.last_rowid();
}

std::vector<serve::PlanRequest> SqliteAccess::plan_requests() {
  std::vector<serve::PlanRequest> out;
  Stmt s(m_db, "SELECT id, organization, plan, actor, note, at FROM serve_plan_requests ORDER BY id");
  while (s.step()) {
    serve::PlanRequest r;
    r.id = s.int64(0);
    r.organization = std::string(s.text(1));
    r.plan = std::string(s.text(2));
    r.actor = std::string(s.text(3));
    r.note = std::string(s.text(4));
    r.at = s.int64(5);
    out.push_back(r);
  }
  return out;
}

}  // namespace billctl::store
