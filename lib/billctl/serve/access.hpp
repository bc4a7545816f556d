// Who may do what (seed 002's permission matrix) and the records the server keeps about its
// callers: OAuth clients, the log of mutations with their idempotency keys, plan change requests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "billctl/util/time.hpp"

namespace billctl::serve {

enum class Role { platform_admin, tenant_admin, billing_contact };
enum class Action { view_usage, view_invoices, update_plan, manage_payment, set_budget_alerts, adjust_credits };
// all: every organization; own: the caller's organization only; request: may ask, not do.
enum class Grant { none, own, all, request };

inline constexpr Role k_roles[] = {Role::platform_admin, Role::tenant_admin, Role::billing_contact};
inline constexpr Action k_actions[] = {Action::view_usage,     Action::view_invoices,     Action::update_plan,
                                       Action::manage_payment, Action::set_budget_alerts, Action::adjust_credits};

// The matrix: seed 002's rows (view usage, view invoices, update plan, manage payment, set budget
// alerts) plus ledger adjustments, which only the platform makes.
Grant grant(Role r, Action a);
std::string_view role_name(Role r);    // "platform-admin", "tenant-admin", "billing-contact"
std::string_view action_name(Action a);  // "view usage", ...
std::optional<Role> find_role(std::string_view name);

// The authenticated caller of one request, from the token's claims.
struct Caller {
  std::string subject;       // sub: the client's name or the identity provider's subject
  std::string organization;  // org
  Role role = Role::billing_contact;
  bool can_read = false;     // scope billing:read
  bool can_write = false;    // scope billing:write
  std::string actor() const { return subject; }
};

// Why the caller may not do `a` on `organization` (empty: across all organizations), or nullopt
// when allowed.
std::optional<std::string> denied(const Caller& c, Action a, const std::string& organization);

struct Client {
  std::string name;  // the client_id
  std::string organization;
  Role role = Role::billing_contact;
  std::string scope = "billing:read billing:write";
  std::string secret_hash;
  util::Seconds created_at = 0;
};

struct MutationRecord {
  int64_t seq = 0;
  std::string idempotency_key;  // empty: none given
  util::Seconds at = 0;
  std::string actor, organization, mutation;
  std::string request;  // the mutation's arguments as JSON (a replay must repeat them)
  std::string result;   // the response's data as JSON
};

struct PlanRequest {
  int64_t id = 0;
  std::string organization, plan, actor, note;
  util::Seconds at = 0;
};

class AccessStore {
 public:
  virtual ~AccessStore() = default;
  // False when the name is taken.
  virtual bool add_client(const Client& c) = 0;
  virtual std::optional<Client> find_client(const std::string& name) = 0;
  virtual std::vector<Client> list_clients() = 0;
  virtual bool remove_client(const std::string& name) = 0;
  // The earlier mutation recorded with this key by this actor.
  virtual std::optional<MutationRecord> find_mutation(const std::string& actor, const std::string& key) = 0;
  virtual void record_mutation(const MutationRecord& m) = 0;
  virtual std::vector<MutationRecord> mutations(size_t limit) = 0;
  virtual int64_t add_plan_request(const PlanRequest& r) = 0;
  virtual std::vector<PlanRequest> plan_requests() = 0;
};

}  // namespace billctl::serve
