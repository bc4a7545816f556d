// budgets notify: decides which alerts are due (the highest stage each budget reached, a
// forecast crossing the limit, PagerDuty resolves for ended periods), renders them with the top
// drivers, and sends each once per budget, stage, period and channel, recording it in the store.
#pragma once

#include <string>
#include <vector>

#include "billctl/budgets/budget.hpp"
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

// "Mon, 02 Nov 2026 08:00:00 +0000"
std::string rfc5322_date(util::Seconds t);

}  // namespace billctl::notify
