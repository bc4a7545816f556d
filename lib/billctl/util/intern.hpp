// Text values to dense ids, for hot loops that group records by a few text columns: the loop keys
// its tables by small integers and turns them back into text once, at the end.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "billctl/util/simd.hpp"

namespace billctl::util {

// Ids are 0, 1, 2, ... in order of first sight; a one-entry cache serves runs of equal values.
class Interner {
 public:
  int32_t id(std::string_view s) {
    if (m_last >= 0 && s == m_last_text) return m_last;
    auto it = m_ids.find(s);
    int32_t id;
    if (it != m_ids.end()) {
      id = it->second;
    } else {
      id = int32_t(m_values.size());
      m_values.emplace_back(s);
      m_ids.emplace(m_values.back(), id);
    }
    m_last = id;
    m_last_text = m_values[size_t(id)];
    return id;
  }
  const std::string& value(int32_t id) const { return m_values[size_t(id)]; }
  size_t size() const { return m_values.size(); }
  void clear() {
    m_ids.clear();
    m_values.clear();
    m_last = -1;
    m_last_text = {};
  }

 private:
  std::unordered_map<std::string, int32_t, FastHash, std::equal_to<>> m_ids;
  std::deque<std::string> m_values;  // stable addresses for m_last_text
  int32_t m_last = -1;
  std::string_view m_last_text;
};

}  // namespace billctl::util
