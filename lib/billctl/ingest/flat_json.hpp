// Flat JSON Lines records without a JSON parser. Most exports write each record as one flat object
// of ASCII keys and values: strings without escapes, numbers, nulls. Such a line is split into its
// fields here; anything else goes to simdjson (the reader's fallback), so every line reads as the
// parser reads it.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace billctl::ingest {

struct FlatField {
  std::string_view key, value;  // a string's contents, a number's token, empty for null
};
using FlatFields = std::array<FlatField, 64>;

// The exact scanner: true when `line` is such an object (spaces, tabs and line breaks between
// tokens allowed), with its fields in `fields`. False for anything else — escapes, non-ASCII bytes,
// nesting, true/false, more than 64 fields, anything that is not valid JSON.
bool scan_flat_object(std::string_view line, FlatFields& fields, size_t& count);

// The fast path for the common line: one pass over the bytes finds every quote (16 bytes at a
// time) and refuses a line with a backslash, a control byte (tabs included) or a non-ASCII byte;
// the tokens are then read between the quotes. When it returns true, the fields are exactly what
// scan_flat_object gives, and `plain` says that no byte is DEL (every byte is printable ASCII).
// False: not vouched for (call scan_flat_object).
bool scan_flat_object_fast(std::string_view line, FlatFields& fields, size_t& count, bool& plain);

}  // namespace billctl::ingest
