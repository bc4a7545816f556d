// The columns of the canonical usage record and the parsing of one value into a record.
// Shared by the CSV and JSON Lines readers so that both accept exactly the same values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "billctl/usage/record.hpp"

namespace billctl::ingest {

enum class Field : uint8_t {
  id, timestamp, provider, model, organization, department, user, feature, project,
  input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens,
  requests, service_tier, status, cost, currency, meter, quantity, unit, session,
  count_  // number of fields
};

constexpr size_t k_field_count = size_t(Field::count_);

// The column name of a field ("input_tokens").
std::string_view field_name(Field f);
// The field a column name denotes; accepts a few common aliases (e.g. "org").
std::optional<Field> find_field(std::string_view name);
// Every canonical column name, in header order.
std::vector<std::string> field_names();

// Longest accepted attribution value (provider, model, user, ...), in bytes.
constexpr size_t k_max_text = 1024;

// Sets one field of `r` from its text. Returns an empty string, or the reason it was refused
// ("invalid input_tokens '-5': must be a non-negative integer"). `plain`: the caller knows the text
// is printable ASCII (the CSV reader checks whole records at once).
std::string set_field(usage::UsageRecord& r, Field f, std::string_view text, bool plain = false);
// The same for the readers' loops: true, or false with the reason in `why` (a message is built
// only for a refused value).
bool set_field(usage::UsageRecord& r, Field f, std::string_view text, bool plain, std::string& why);
// Checks a record once all its fields are set; returns the reason it is refused, or empty.
std::string validate(const usage::UsageRecord& r, bool has_timestamp);

// Attribution values applied to every record whose field is empty (usage import --set K=V).
struct Defaults {
  std::vector<std::pair<Field, std::string>> values;
  void apply(usage::UsageRecord& r) const;
};
// Parses "department=eng"; throws UsageError naming the flag.
std::pair<Field, std::string> parse_assignment(std::string_view text, std::string_view flag);

}  // namespace billctl::ingest
