// Text values to dense ids, for hot loops that group records by a few text columns: the loop keys
// its tables by small integers and turns them back into text once, at the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "billctl/util/simd.hpp"

namespace billctl::util {

// Ids are 0, 1, 2, ... in order of first sight. A lookup hashes the bytes once and probes an
// open-addressing table of (hash, id) slots, comparing bytes only when the hashes agree; a
// one-entry cache serves runs of equal values. Nothing is allocated for a value seen before.
// Copies are safe: everything is held by value or by offset.
class Interner {
 public:
  Interner() = default;
  // A copy starts without the one-entry cache (it would point into the other's values).
  int32_t id(std::string_view s) {
    if (m_last >= 0 && s.size() == m_last_size && same_bytes(s.data(), m_bytes.data() + m_last_at, s.size())) return m_last;
    const uint64_t h = fast_hash(s);
    if ((m_values.size() + 1) * 2 > m_slots.size()) grow();
    const size_t mask = m_slots.size() - 1;
    for (size_t i = size_t(h) & mask;; i = (i + 1) & mask) {
      Slot& slot = m_slots[i];
      if (slot.id < 0) {
        slot = Slot{h, int32_t(m_values.size()), uint32_t(s.size()), m_bytes.size()};
        m_values.emplace_back(s);
        m_bytes.append(s);
        return remember(slot);
      }
      if (slot.hash == h && slot.size == s.size() && same_bytes(m_bytes.data() + slot.at, s.data(), s.size()))
        return remember(slot);
    }
  }
  const std::string& value(int32_t id) const { return m_values[size_t(id)]; }
  size_t size() const { return m_values.size(); }
  void clear() {
    m_slots.clear();
    m_values.clear();
    m_bytes.clear();
    m_last = -1;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    int32_t id = -1;
    uint32_t size = 0;
    size_t at = 0;  // of the value's bytes in m_bytes
  };
  int32_t remember(const Slot& slot) {
    m_last = slot.id;
    m_last_at = slot.at;
    m_last_size = slot.size;
    return slot.id;
  }
  void grow() {
    std::vector<Slot> slots(m_slots.empty() ? 64 : m_slots.size() * 2);
    const size_t mask = slots.size() - 1;
    for (const Slot& s : m_slots) {
      if (s.id < 0) continue;
      size_t i = size_t(s.hash) & mask;
      while (slots[i].id >= 0) i = (i + 1) & mask;
      slots[i] = s;
    }
    m_slots.swap(slots);
  }

  std::vector<Slot> m_slots;          // a power of two, at most half full
  std::deque<std::string> m_values;   // what value() hands out (stable addresses)
  std::string m_bytes;                // every value's bytes, one after another (compared in probes)
  int32_t m_last = -1;                // the one-entry cache: the last value's id, offset and size
  size_t m_last_at = 0;
  uint32_t m_last_size = 0;
};

}  // namespace billctl::util
