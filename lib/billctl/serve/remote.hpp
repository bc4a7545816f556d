// billctl --remote: the CLI as a client of billctl serve. A RemoteClient holds the OAuth token
// (client credentials) and sends GraphQL; RemoteUsage and RemoteBudgets implement the domain's
// store interfaces over it, so the commands that read usage and budgets run unchanged and print
// what they print against a local store.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "billctl/budgets/budget_store.hpp"
#include "billctl/net/http.hpp"
#include "billctl/usage/source.hpp"
#include "billctl/util/time.hpp"

#include <nlohmann/json.hpp>

namespace billctl::serve {

struct RemoteConfig {
  std::string url;  // https://billing.example.com:8443 (the server's root)
  std::string client_id, client_secret;
  std::string ca_file;  // trust this certificate bundle (a self-signed server)
  long timeout_ms = 120000;
};

class RemoteClient {
 public:
  RemoteClient(net::HttpClient& http, RemoteConfig config);
  // Runs a query or mutation; returns its data. Errors: the server unreachable or failing (exit 1),
  // refused credentials or FORBIDDEN (exit 4), bad input (exit 2), naming the server.
  nlohmann::json run(const std::string& query, const nlohmann::json& variables = nlohmann::json::object());
  const RemoteConfig& config() const { return m_config; }

 private:
  void fetch_token();
  net::HttpClient& m_http;
  RemoteConfig m_config;
  std::string m_token;
};

class RemoteUsage : public usage::Source {
 public:
  explicit RemoteUsage(RemoteClient& client) : m_client(client) {}
  std::vector<usage::AggResult> aggregate(const std::vector<usage::AggQuery>& queries) override;
  std::vector<usage::CatalogInfo> catalogs_used(util::Seconds begin, util::Seconds end) override;
  bool may_have_sessions(util::Seconds begin, util::Seconds end) override;

 private:
  RemoteClient& m_client;
};

class RemoteBudgets : public budgets::BudgetStore {
 public:
  explicit RemoteBudgets(RemoteClient& client) : m_client(client) {}
  std::vector<budgets::Budget> list_budgets() override;
  void put_budget(const budgets::Budget& b, util::Seconds now) override;
  std::vector<std::string> remove_budgets(const std::vector<std::string>& names) override;
  // Not one transaction over the network: puts, then removals, each acknowledged by the server.
  void apply_budgets(const std::vector<budgets::Budget>& put, const std::vector<std::string>& remove, util::Seconds now) override;

 private:
  RemoteClient& m_client;
};

// "https://host:8443" with a path or a trailing slash taken off; throws UsageError naming `what`.
std::string remote_root(const std::string& url, const std::string& what);

}  // namespace billctl::serve
