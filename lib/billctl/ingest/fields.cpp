#include "billctl/ingest/fields.hpp"

#include <array>

#include "billctl/util/simd.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::ingest {

namespace {

constexpr std::array<std::string_view, k_field_count> k_names{
    "id", "timestamp", "provider", "model", "organization", "department", "user", "feature", "project",
    "input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens",
    "requests", "service_tier", "status", "cost", "currency", "meter", "quantity", "unit", "session"};

// The setters below return true, or false with the reason in `why` (built only then).
bool fail(std::string& why, std::string reason) {
  why = std::move(reason);
  return false;
}

// Refuses a value: "invalid input_tokens '-5': must be a non-negative integer".
bool refuse(std::string& why, Field f, std::string_view text, std::string_view reason) {
  std::string shown(text.substr(0, 64));
  if (!util::valid_utf8(shown)) shown = "<invalid UTF-8>";
  return fail(why, "invalid " + std::string(field_name(f)) + " '" + shown + (text.size() > 64 ? "...'" : "'") + ": " +
                       std::string(reason));
}

bool ascii_only(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

bool set_text(std::string_view& dst, Field f, std::string_view text, bool plain, std::string& why) {
  if (text.size() <= k_max_text && (plain || util::printable_ascii(text))) {  // the common case, checked 16 bytes at a time
    dst = text;
    return true;
  }
  if (text.size() > k_max_text) return refuse(why, f, text, "longer than 1024 bytes");
  if (!ascii_only(text) && !util::valid_utf8(text)) return fail(why, "invalid " + std::string(field_name(f)) + ": not valid UTF-8");
  // No control characters at all (C0, DEL, C1): a name with a line break or an escape sequence
  // would break every table and could drive the terminal of whoever reads the report.
  if (util::has_control(text)) return refuse(why, f, text, "contains a control character");
  dst = text;
  return true;
}

bool set_count(int64_t& dst, Field f, std::string_view text, std::string& why) {
  if (text.empty()) {
    dst = 0;
    return true;
  }
  if (!util::parse_u63(text, dst)) {
    if (!text.empty() && text[0] == '-') return refuse(why, f, text, "must be a non-negative integer");
    if (text.size() >= 19 && ascii_only(text)) return refuse(why, f, text, "out of range");
    return refuse(why, f, text, "must be a non-negative integer");
  }
  // Keep every product of a count and a per-token price far from overflow.
  if (dst > 1'000'000'000'000'000) return refuse(why, f, text, "out of range (at most 1e15)");
  return true;
}

}  // namespace

std::string_view field_name(Field f) { return k_names[size_t(f)]; }

std::vector<std::string> field_names() { return {k_names.begin(), k_names.end()}; }

std::optional<Field> find_field(std::string_view name) {
  for (size_t i = 0; i < k_field_count; ++i)
    if (k_names[i] == name) return Field(i);
  if (name == "org") return Field::organization;
  if (name == "time" || name == "ts") return Field::timestamp;
  if (name == "tier") return Field::service_tier;
  if (name == "session_id" || name == "sessionId") return Field::session;
  if (name == "cache_read_tokens" || name == "cache_read_input_tokens") return Field::cached_input_tokens;
  return std::nullopt;
}

bool set_field(usage::UsageRecord& r, Field f, std::string_view text, bool plain, std::string& why) {
  switch (f) {
    case Field::id:
      if (text.size() > 256) return refuse(why, f, text, "longer than 256 bytes");
      return set_text(r.id, f, text, plain, why);
    case Field::timestamp: {
      auto t = util::parse_rfc3339(text);
      if (!t) return fail(why, t.error());
      // Usage before 1970 or after 2199 is a broken clock, not a bill.
      if (*t < 0 || *t >= 7258118400) return refuse(why, f, text, "out of range (1970 to 2199)");
      r.timestamp = *t;
      return true;
    }
    case Field::provider: return set_text(r.provider, f, text, plain, why);
    case Field::model: return set_text(r.model, f, text, plain, why);
    case Field::organization: return set_text(r.organization, f, text, plain, why);
    case Field::department: return set_text(r.department, f, text, plain, why);
    case Field::user: return set_text(r.user, f, text, plain, why);
    case Field::feature: return set_text(r.feature, f, text, plain, why);
    case Field::project: return set_text(r.project, f, text, plain, why);
    case Field::session: return set_text(r.session, f, text, plain, why);
    case Field::input_tokens: return set_count(r.input_tokens, f, text, why);
    case Field::cached_input_tokens: return set_count(r.cached_input_tokens, f, text, why);
    case Field::cache_write_tokens: return set_count(r.cache_write_tokens, f, text, why);
    case Field::cache_write_1h_tokens: return set_count(r.cache_write_1h_tokens, f, text, why);
    case Field::output_tokens: return set_count(r.output_tokens, f, text, why);
    case Field::requests:
      if (text.empty()) {
        r.requests = 1;
        return true;
      }
      if (!set_count(r.requests, f, text, why)) return false;
      if (r.requests < 1) return refuse(why, f, text, "must be at least 1");
      return true;
    case Field::service_tier:
      if (!usage::parse_tier(text, r.tier)) return refuse(why, f, text, "expected standard, batch, flex or priority");
      return true;
    case Field::status:
      if (text.empty() || text == "ok" || text == "success" || text == "succeeded") r.status = usage::Status::ok;
      else if (text == "error" || text == "failed" || text == "failure") r.status = usage::Status::error;
      else return refuse(why, f, text, "expected ok or error");
      return true;
    case Field::cost: {
      if (text.empty()) {
        r.has_cost = false;
        return true;
      }
      auto d = money::Decimal::parse(text);
      if (!d) return refuse(why, f, text, d.error());
      if (d->units() > money::i128(1'000'000'000) * money::Decimal::k_one ||
          d->units() < -money::i128(1'000'000'000) * money::Decimal::k_one)
        return refuse(why, f, text, "out of range");
      r.cost = *d;
      r.has_cost = true;
      return true;
    }
    case Field::currency: {
      if (text.empty()) return true;
      auto c = money::find_currency(text);
      if (!c) return refuse(why, f, text, "expected an ISO 4217 code such as USD");
      r.currency = *c;
      return true;
    }
    case Field::meter: return set_text(r.meter, f, text, plain, why);
    case Field::unit: return set_text(r.unit, f, text, plain, why);
    case Field::quantity: {
      if (text.empty()) return true;
      auto d = money::Decimal::parse(text);
      if (!d) return refuse(why, f, text, d.error());
      if (d->negative()) return refuse(why, f, text, "must not be negative");
      r.quantity = *d;
      return true;
    }
    case Field::count_: break;
  }
  return true;
}

std::string set_field(usage::UsageRecord& r, Field f, std::string_view text, bool plain) {
  std::string why;
  set_field(r, f, text, plain, why);
  return why;
}

std::string validate(const usage::UsageRecord& r, bool has_timestamp) {
  if (!has_timestamp) return "missing timestamp";
  if (r.model.empty() && r.meter.empty()) return "missing model (required for token records)";
  // The store keeps costs as 64-bit counts of 1e-12 units.
  return {};
}

void Defaults::apply(usage::UsageRecord& r) const {
  for (const auto& [f, v] : values) {
    std::string_view* dst = nullptr;
    switch (f) {
      case Field::provider: dst = &r.provider; break;
      case Field::organization: dst = &r.organization; break;
      case Field::department: dst = &r.department; break;
      case Field::user: dst = &r.user; break;
      case Field::feature: dst = &r.feature; break;
      case Field::project: dst = &r.project; break;
      default: break;
    }
    if (dst && dst->empty()) *dst = v;
  }
}

std::pair<Field, std::string> parse_assignment(std::string_view text, std::string_view flag) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw UsageError("invalid " + std::string(flag) + " '" + std::string(text) + "': expected KEY=VALUE");
  const std::string key(text.substr(0, eq));
  auto f = find_field(key);
  static const std::vector<std::string> k_settable{"provider", "organization", "department", "user", "feature", "project"};
  bool ok = false;
  for (const auto& s : k_settable) ok = ok || (f && field_name(*f) == s);
  if (!ok) {
    std::string hint = util::did_you_mean(key, k_settable);
    throw UsageError("invalid " + std::string(flag) + " '" + std::string(text) + "': '" + key +
                     "' cannot be set; one of provider, organization, department, user, feature, project" +
                     (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  return {*f, std::string(text.substr(eq + 1))};
}

}  // namespace billctl::ingest
