#include "billctl/notify/channels.hpp"
#include "billctl/util/toml_guard.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>
#include <toml++/toml.h>

#include "billctl/util/error.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::notify {

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::webhook: return "webhook";
    case Kind::slack: return "slack";
    case Kind::teams: return "teams";
    case Kind::pagerduty: return "pagerduty";
    case Kind::email: return "email";
    case Kind::sms: return "sms";
  }
  return "webhook";
}

const Channel* Settings::find(const std::string& name) const {
  for (const auto& c : channels)
    if (c.name == name) return &c;
  return nullptr;
}

namespace {

[[noreturn]] void bad(const std::string& at, const std::string& what) { throw DataError(at + ": " + what); }

// Stands in for a value whose environment variable is unset, until the checks of required keys ran.
constexpr const char* k_unset = "\x01unset";

std::string line_of(const toml::node& n, const std::string& origin) {
  return origin + ":" + std::to_string(n.source().begin.line);
}

}  // namespace

Settings parse_settings(const toml::table& notify, const std::string& origin, const GetEnv& getenv, bool secrets_allowed) {
  Settings s;
  for (const auto& [k, v] : notify) {
    const std::string key(k.str());
    const std::string at = line_of(v, origin);
    if (key == "attempts") {
      auto n = util::toml_integer(v);
      if (!n || *n < 1 || *n > 10) bad(at, "notify.attempts must be 1..10");
      s.attempts = int(*n);
    } else if (key == "backoff_ms") {
      auto n = util::toml_integer(v);
      if (!n || *n < 0 || *n > 60000) bad(at, "notify.backoff_ms must be 0..60000");
      s.backoff_ms = long(*n);
    } else if (key == "timeout_ms") {
      auto n = util::toml_integer(v);
      if (!n || *n < 100 || *n > 120000) bad(at, "notify.timeout_ms must be 100..120000");
      s.timeout_ms = long(*n);
    } else if (key == "default_channels") {
      const auto* a = v.as_array();
      if (!a) bad(at, "notify.default_channels must be an array of channel names");
      for (const auto& e : *a) {
        auto name = e.value<std::string>();
        if (!name) bad(at, "notify.default_channels must be an array of channel names");
        s.default_channels.push_back(*name);
      }
    } else if (key == "channels") {
      const auto* t = v.as_table();
      if (!t) bad(at, "notify.channels must be a table of [notify.channels.NAME]");
      for (const auto& [cname, cv] : *t) {
        const auto* ct = cv.as_table();
        const std::string cat = line_of(cv, origin);
        if (!ct) bad(cat, "notify.channels." + std::string(cname.str()) + " must be a table");
        Channel c;
        c.name = std::string(cname.str());
        // A value, or KEY_env naming an environment variable that holds it. Secrets in the file
        // itself need the file to be private.
        auto get = [&](const std::string& name, bool secret) -> std::string {
          if (auto val = (*ct)[name].value<std::string>()) {
            if (secret && !secrets_allowed)
              bad(line_of(*ct->get(name), origin),
                  "notify.channels." + c.name + "." + name + " is a secret, and the config file is readable by others; "
                  "chmod 600 it, or use " + name + "_env = \"VARIABLE\"");
            return *val;
          }
          if (auto var = (*ct)[name + "_env"].value<std::string>()) {
            const std::string v2 = getenv(*var);
            // Secrets are needed only when sending: an unset variable fails this channel's
            // sends, not 'budgets set' in an admin's shell.
            if (v2.empty())
              c.unresolved = line_of(*ct->get(name + "_env"), origin) + ": notify.channels." + c.name + "." + name +
                             "_env names $" + *var + ", which is not set";
            return v2.empty() ? std::string(k_unset) : v2;
          }
          return {};
        };
        const std::string type = (*ct)["type"].value_or(std::string());
        if (type == "webhook") c.kind = Kind::webhook;
        else if (type == "slack") c.kind = Kind::slack;
        else if (type == "teams") c.kind = Kind::teams;
        else if (type == "pagerduty") c.kind = Kind::pagerduty;
        else if (type == "email") c.kind = Kind::email;
        else if (type == "sms") c.kind = Kind::sms;
        else bad(cat, "notify.channels." + c.name + ".type must be webhook, slack, teams, pagerduty, email or sms");
        const bool url_secret = c.kind == Kind::slack || c.kind == Kind::teams;  // the URL is the credential
        c.url = get("url", url_secret);
        c.token = get(c.kind == Kind::pagerduty ? "routing_key" : c.kind == Kind::sms ? "auth_token" : "token", true);
        c.account_sid = get("account_sid", false);
        c.smtp_url = get("smtp_url", false);
        c.username = get("username", false);
        c.password = get("password", true);
        c.from = get("from", false);
        if (auto tls = (*ct)["require_tls"].value<bool>()) c.require_tls = *tls;
        if (const auto* to = (*ct)["to"].as_array()) {
          for (const auto& e : *to)
            if (auto sv = e.value<std::string>()) c.to.push_back(*sv);
        } else if (auto one = (*ct)["to"].value<std::string>()) {
          c.to.push_back(*one);
        }
        if (c.kind == Kind::pagerduty && c.url.empty()) c.url = "https://events.pagerduty.com/v2/enqueue";
        const std::string where = "notify.channels." + c.name;
        switch (c.kind) {
          case Kind::webhook:
          case Kind::slack:
          case Kind::teams:
            if (c.url.empty()) bad(cat, where + " needs url (or url_env)");
            break;
          case Kind::pagerduty:
            if (c.token.empty()) bad(cat, where + " needs routing_key (or routing_key_env)");
            break;
          case Kind::email:
            if (c.smtp_url.empty() || c.from.empty() || c.to.empty()) bad(cat, where + " needs smtp_url, from and to");
            break;
          case Kind::sms:
            if (c.url.empty() || c.from.empty() || c.to.empty() || c.account_sid.empty() || c.token.empty())
              bad(cat, where + " needs url, account_sid, auth_token (or auth_token_env), from and to");
            break;
        }
        // A value still waiting for its environment variable is no value to send with.
        for (std::string* f : {&c.url, &c.token, &c.account_sid, &c.smtp_url, &c.username, &c.password, &c.from})
          if (*f == k_unset) f->clear();
        s.channels.push_back(std::move(c));
      }
    } else {
      bad(at, "unknown key 'notify." + key + "' (known: channels, default_channels, attempts, backoff_ms, timeout_ms)");
    }
  }
  for (const auto& d : s.default_channels)
    if (!s.find(d)) bad(origin, "notify.default_channels names '" + d + "', which is not a channel");
  return s;
}

std::string describe(const Channel& c) {
  switch (c.kind) {
    case Kind::email: {
      std::string to;
      for (const auto& t : c.to) to += (to.empty() ? "" : ", ") + t;
      return "email to " + to;
    }
    case Kind::sms: {
      std::string to;
      for (const auto& t : c.to) to += (to.empty() ? "" : ", ") + t;
      return "sms to " + to;
    }
    case Kind::pagerduty: return "pagerduty event";
    case Kind::slack: return "slack message";
    case Kind::teams: return "teams message";
    case Kind::webhook: return "webhook POST";
  }
  return {};
}

namespace {

// One attempt. Returns empty on success; sets `retry` when another attempt may help.
std::string attempt(const Channel& c, const Alert& a, const Settings& s, net::HttpClient& http, net::MailSender& mail,
                    const std::string& date, bool& retry, long& wait_ms) {
  using nlohmann::ordered_json;
  retry = true;
  auto post = [&](net::HttpRequest req) -> std::string {
    req.timeout_ms = s.timeout_ms;
    const net::HttpResponse res = http.post(req);
    if (res.ok()) return {};
    if (!res.error.empty()) return res.error;
    // 4xx other than 408/429 will not heal by retrying now; the next run tries again.
    retry = res.status >= 500 || res.status == 429 || res.status == 408;
    if (res.retry_after_s >= 0) wait_ms = std::min(res.retry_after_s, 30L) * 1000;
    return "HTTP " + std::to_string(res.status);
  };
  switch (c.kind) {
    case Kind::webhook: {
      net::HttpRequest r{c.url, a.json, {{"Content-Type", "application/json"}}, {}, {}, 0, {}};
      if (!c.token.empty()) r.headers.emplace_back("Authorization", "Bearer " + c.token);
      return post(r);
    }
    case Kind::slack: {
      ordered_json j;
      j["text"] = a.text;
      return post({c.url, j.dump(), {{"Content-Type", "application/json"}}, {}, {}, 0, {}});
    }
    case Kind::teams: {
      ordered_json j;
      j["@type"] = "MessageCard";
      j["@context"] = "https://schema.org/extensions";
      j["summary"] = a.title;
      j["themeColor"] = a.severity == "critical" ? "D93F0B" : a.severity == "error" ? "E99695" : "FBCA04";
      j["title"] = a.title;
      j["text"] = a.text;
      return post({c.url, j.dump(), {{"Content-Type", "application/json"}}, {}, {}, 0, {}});
    }
    case Kind::pagerduty: {
      ordered_json j;
      j["routing_key"] = c.token;
      j["event_action"] = a.resolve ? "resolve" : "trigger";
      j["dedup_key"] = "billctl:" + a.budget + ":" + a.period;
      if (!a.resolve) {
        ordered_json p;
        p["summary"] = a.title;
        p["source"] = "billctl";
        p["severity"] = a.severity;
        p["component"] = "budget:" + a.budget;
        p["custom_details"] = ordered_json::parse(a.json);
        j["payload"] = p;
      }
      return post({c.url, j.dump(), {{"Content-Type", "application/json"}}, {}, {}, 0, {}});
    }
    case Kind::email: {
      std::string to;
      for (const auto& t : c.to) to += (to.empty() ? "" : ", ") + t;
      const std::string id = a.message_id.empty() ? "billctl." + a.budget + "." + a.period + "." + a.stage : a.message_id;
      std::string data = "Date: " + date + "\r\nFrom: billctl <" + c.from + ">\r\nTo: " + to + "\r\nSubject: " + a.title +
                         "\r\nMessage-ID: <" + id + "@billctl.invalid>\r\nMIME-Version: 1.0\r\n";
      // A boundary no part can contain: it is made of a digest of the parts.
      std::string all = a.text;
      for (const auto& at : a.attachments) all += at.data;
      const std::string boundary = "billctl-" + util::sha256_hex(all).substr(0, 32);
      if (!a.attachments.empty())
        data += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n--" + boundary + "\r\n";
      data += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
      for (char ch : a.text) {
        if (ch == '\n') data += "\r\n";
        else data += ch;
      }
      data += "\r\n";
      for (const auto& at : a.attachments) {
        data += "--" + boundary + "\r\nContent-Type: " + at.content_type + "; name=\"" + at.filename +
                "\"\r\nContent-Disposition: attachment; filename=\"" + at.filename +
                "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + util::base64(at.data, true);
      }
      if (!a.attachments.empty()) data += "--" + boundary + "--\r\n";
      net::MailMessage m{c.smtp_url, c.require_tls, c.username, c.password, c.from, c.to, data, s.timeout_ms};
      return mail.send(m);
    }
    case Kind::sms: {
      for (const auto& number : c.to) {
        net::HttpRequest r{c.url, net::form_encode({{"To", number}, {"From", c.from}, {"Body", a.title}}),
                           {{"Content-Type", "application/x-www-form-urlencoded"}}, c.account_sid, c.token, 0, {}};
        if (std::string e = post(r); !e.empty()) return e + " (to " + number + ")";
      }
      return {};
    }
  }
  return "unknown channel type";
}

}  // namespace

std::string deliver(const Channel& c, const Alert& a, const Settings& s, net::HttpClient& http, net::MailSender& mail,
                    const std::string& date) {
  if (!c.unresolved.empty()) return c.unresolved;  // a secret's variable is unset: nothing to send with
  std::string err;
  long backoff = s.backoff_ms;
  int made = 0;
  for (int i = 0; i < s.attempts; ++i) {
    bool retry = true;
    long wait = backoff;
    ++made;
    err = attempt(c, a, s, http, mail, date, retry, wait);
    if (err.empty() || !retry) break;
    if (i + 1 < s.attempts) std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    backoff *= 2;
  }
  if (!err.empty()) err += " (" + std::to_string(made) + (made == 1 ? " attempt)" : " attempts)");
  return err;
}

}  // namespace billctl::notify
