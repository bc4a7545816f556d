// budgets notify: decides which alerts are due (the highest stage each budget reached, a
// forecast crossing the limit, PagerDuty resolves for ended periods), renders them with the top
// drivers, and sends each once per budget, stage, period and channel, recording it in the store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "billctl/budgets/budget.hpp"
#include "billctl/forecast/anomalies.hpp"
#include "billctl/net/http.hpp"
#include "billctl/notify/channels.hpp"
#include "billctl/notify/alert_log.hpp"
#include "billctl/usage/source.hpp"

namespace billctl::notify {

struct Outcome {
  std::string budget, period, stage, channel;
  std::string result;  // "sent", "would send", "failed: ...", "no channel"
  bool failed = false;
  std::string text;    // the message (shown with --dry-run)
};

struct NotifyContext {
  usage::Source& usage;
  AlertLog& alerts;
  net::HttpClient& http;
  net::MailSender& mail;
  const Settings& settings;
  util::Seconds now;
  bool dry_run = false;
};

std::vector<Outcome> run_notify(const std::vector<budgets::Budget>& budgets, NotifyContext& ctx);

// Sends an alert through one channel unless it was sent before or another run is sending it:
// claim, deliver, record the outcome. nullopt when there was nothing to send.
std::optional<Outcome> send_once(const Alert& a, const Channel& c, NotifyContext& ctx);

// The low-balance alert of an organization's prepaid credits for a month.
Alert low_balance_alert(const std::string& organization, const money::Decimal& balance, const money::Decimal& threshold,
                        const std::string& month, util::Seconds now);
// Sends it once per organization and month through each named channel; with no channel, records
// it as sent on "stderr" (the caller prints it) the first time only. An unknown channel name is a
// DataError before anything is sent.
std::vector<Outcome> send_low_balance(const Alert& a, const std::vector<std::string>& channels, NotifyContext& ctx);

// The alert of a usage anomaly (usage anomalies --notify): once per metric and bucket. `bucket`
// names it ("2026-10-14", "2026-10-14T01:00Z").
Alert anomaly_alert(const forecast::Anomaly& a, const std::string& bucket, const money::Currency& currency, util::Seconds now);

// "Mon, 02 Nov 2026 08:00:00 +0000"
std::string rfc5322_date(util::Seconds t);

}  // namespace billctl::notify
