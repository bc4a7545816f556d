// The tables billctl keeps in ClickHouse and what the usage store, its imports and the ledger share
// about them: column lists, which rows are visible (those of committed imports), RowBinary
// encoding, and the SELECT that rolls records up by hour.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "billctl/store/combo.hpp"

namespace billctl::store::ch {

inline constexpr const char* k_usage_columns =
    "id String, ts Int64, provider String, model String, organization String, department String, user String,"
    " feature String, project String, session String, input_tokens Int64, cached_input_tokens Int64,"
    " cache_write_tokens Int64, cache_write_1h_tokens Int64, output_tokens Int64, requests Int64,"
    " service_tier String, status String, cost_micro Int64, cost_pico Int64, currency String, cost_source Int8,"
    " meter String, quantity String, unit String, txn UInt64, src UInt64, vtxn UInt64, vseq UInt64, sign Int8";
inline constexpr const char* k_insert_columns =
    "id, ts, provider, model, organization, department, user, feature, project, session, input_tokens,"
    " cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, requests, service_tier, status,"
    " cost_micro, cost_pico, currency, cost_source, meter, quantity, unit, txn, src, vtxn, vseq, sign";
// The record columns of a version, for copying it as a cancelling row.
inline constexpr const char* k_record_columns =
    "id, ts, provider, model, organization, department, user, feature, project, session, input_tokens,"
    " cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, requests, service_tier, status,"
    " cost_micro, cost_pico, currency, cost_source, meter, quantity, unit";
inline constexpr const char* k_visible = "txn GLOBAL IN (SELECT txn FROM imports)";
inline constexpr int64_t k_cost_micro = 1'000'000;

// Appends RowBinary values.
struct RowBinary {
  std::string& out;
  void str(std::string_view s) {
    uint64_t n = s.size();
    while (n >= 0x80) {
      out += char(uint8_t(n) | 0x80);
      n >>= 7;
    }
    out += char(uint8_t(n));
    out.append(s);
  }
  void i64(int64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);  // little-endian (x86-64, aarch64)
    out.append(b, 8);
  }
  void u64(uint64_t v) { i64(int64_t(v)); }
  void i8(int8_t v) { out += char(v); }
};

// A combo with an hourly rollup in ClickHouse: its rollup rows' dim is `dim`, the combo's name and
// a tag of its registration ("department,user#5f0c..."), so rows a registration that did not
// finish wrote are never read.
struct RolledCombo {
  Combo combo;
  std::string dim;
};

class Client;
// The registered combos (table rollup_combos on the first server).
std::vector<RolledCombo> load_combos(Client& client);

// The hourly rollup rows of the records in `records` (a table) that pass `where`, for INSERT ...
// SELECT, one statement per rollup: per dimension and all usage ('*') when `dims`, and per value
// of each combo.
std::vector<std::string> rollup_selects(const std::string& records, const std::string& where,
                                       const std::vector<RolledCombo>& combos, bool dims = true);

// A whole number ClickHouse returned; a DataError naming `what` when it is not one.
int64_t to_number(std::string_view s, std::string_view what);

}  // namespace billctl::store::ch
