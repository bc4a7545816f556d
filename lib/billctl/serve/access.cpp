#include "billctl/serve/access.hpp"

#include <fmt/format.h>

namespace billctl::serve {

Grant grant(Role r, Action a) {
  // Rows: actions; columns: platform admin, tenant admin, billing contact.
  static constexpr Grant k_matrix[][3] = {
      /* view usage        */ {Grant::all, Grant::own, Grant::own},
      /* view invoices     */ {Grant::all, Grant::own, Grant::own},
      /* update plan       */ {Grant::all, Grant::request, Grant::none},
      /* manage payment    */ {Grant::all, Grant::own, Grant::own},
      /* set budget alerts */ {Grant::all, Grant::own, Grant::own},
      /* adjust credits    */ {Grant::all, Grant::none, Grant::none},
  };
  return k_matrix[size_t(a)][size_t(r)];
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::platform_admin: return "platform-admin";
    case Role::tenant_admin: return "tenant-admin";
    case Role::billing_contact: return "billing-contact";
  }
  return "billing-contact";
}

std::string_view action_name(Action a) {
  switch (a) {
    case Action::view_usage: return "view usage";
    case Action::view_invoices: return "view invoices";
    case Action::update_plan: return "update plans";
    case Action::manage_payment: return "manage payment";
    case Action::set_budget_alerts: return "set budget alerts";
    case Action::adjust_credits: return "adjust credits";
  }
  return "";
}

std::optional<Role> find_role(std::string_view name) {
  for (Role r : k_roles)
    if (role_name(r) == name) return r;
  return std::nullopt;
}

std::optional<std::string> denied(const Caller& c, Action a, const std::string& organization) {
  Grant g = grant(c.role, a);
  switch (g) {
    case Grant::all: return std::nullopt;
    case Grant::own:
      if (organization == c.organization) return std::nullopt;
      if (organization.empty()) return fmt::format("a {} may {} of its own organization only", role_name(c.role), action_name(a));
      return fmt::format("a {} of '{}' may not {} of '{}'", role_name(c.role), c.organization, action_name(a), organization);
    case Grant::request:
      return fmt::format("a {} may not {}; use requestPlanChange", role_name(c.role), action_name(a));
    case Grant::none: break;
  }
  return fmt::format("a {} may not {}", role_name(c.role), action_name(a));
}

}  // namespace billctl::serve
