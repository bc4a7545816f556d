// Notification channels (SPEC §6): generic webhook (JSON), Slack and Microsoft Teams incoming
// webhooks, PagerDuty Events API v2, e-mail over SMTP, SMS through a Twilio-compatible gateway.
// Channels are configured in the config file's [notify.channels.NAME] tables; their secrets come
// from the file (which must then be mode 0600) or from environment variables (KEY_env = "VAR").
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "billctl/net/http.hpp"

#include <toml++/toml.h>

namespace billctl::notify {

enum class Kind { webhook, slack, teams, pagerduty, email, sms };
std::string_view kind_name(Kind k);

struct Channel {
  std::string name;
  Kind kind = Kind::webhook;
  std::string url;                 // endpoint (webhook, slack, teams, pagerduty, sms)
  std::string token;               // webhook bearer token, PagerDuty routing key, SMS auth token
  std::string account_sid;         // SMS basic-auth user (Twilio account SID)
  std::string smtp_url;            // email: smtp://host:587 (STARTTLS) or smtps://host:465
  bool require_tls = true;         // email: refuse to send without TLS
  std::string username, password;  // email
  std::string from;                // email sender, SMS sender number
  std::vector<std::string> to;     // email recipients, SMS numbers
  std::string unresolved;          // why the channel cannot send ("FILE:LINE: ..._env names $X, which is not set")
};

struct Settings {
  std::vector<Channel> channels;
  std::vector<std::string> default_channels;  // for budgets that name none
  int attempts = 3;                            // per send within one run
  long backoff_ms = 500;                       // doubled after each failed attempt
  long timeout_ms = 10000;                     // per attempt
  const Channel* find(const std::string& name) const;
};

using GetEnv = std::function<std::string(const std::string&)>;

// Parses the [notify] table. `secrets_allowed` is false when the file is readable by others:
// a secret written into it is then an error naming the key.
Settings parse_settings(const toml::table& notify, const std::string& origin, const GetEnv& getenv, bool secrets_allowed);

// An alert, as the channels render it.
struct Alert {
  std::string budget;
  std::string period;       // "2026-10"
  std::string stage;        // "80" or "forecast"
  std::string title;        // one line
  std::string text;         // the full message
  std::string severity;     // warning, error, critical
  std::string json;         // the generic webhook payload (JSON)
  bool resolve = false;     // PagerDuty: resolve the incident of an ended period
  // E-mail attachments (a report sent by `report send`); other channels carry the text only.
  struct Attachment {
    std::string filename, content_type, data;
  };
  std::vector<Attachment> attachments;
  std::string message_id;   // the Message-ID's local part; default billctl.BUDGET.PERIOD.STAGE
};

// Sends an alert through a channel with retries and backoff. Returns an empty string on
// success, else the last error (never containing a secret).
std::string deliver(const Channel& c, const Alert& a, const Settings& s, net::HttpClient& http, net::MailSender& mail,
                    const std::string& date_rfc5322);

// The request a channel would make, for --dry-run and tests: a one-line description.
std::string describe(const Channel& c);

}  // namespace billctl::notify
