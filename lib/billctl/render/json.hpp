// JSON (RFC 8259) for tables: each row an object keyed by column id; money as a decimal
// string with its currency, never a binary float.
#pragma once

#include <nlohmann/json.hpp>

#include "billctl/render/table.hpp"

namespace billctl::render {

using Json = nlohmann::ordered_json;

// {"amount": "12.34", "currency": "USD"}
Json money_json(const money::Decimal& d, int digits, const money::Currency& c);
// One value as JSON.
Json value_json(const Column& c, const Value& v, const money::Currency& cur);
// One row as an object keyed by column id (the columns for JSON).
Json row_json(const Table& t, const std::vector<Value>& row);
// The rows of a table as an array of objects.
Json rows_json(const Table& t);
// The totals row as an object (null when there is none).
Json total_json(const Table& t);
// A whole document with schema_version, 2-space indented, newline-terminated.
std::string dump(const Json& j);

}  // namespace billctl::render
