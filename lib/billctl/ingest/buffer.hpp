// A growable read buffer over a FileSource with simdjson padding after the data, so that a
// line inside it can be parsed in place. Bytes before `consume()`d offsets may be discarded on refill.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

#include "billctl/util/error.hpp"
#include "billctl/util/io.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::ingest {

class ReadBuffer {
 public:
  static constexpr size_t k_padding = 64;
  static constexpr size_t k_initial = size_t(1) << 20;
  static constexpr size_t k_max_record = size_t(256) << 20;

  // Reads from `start` (an absolute offset; > 0 only for regular files).
  explicit ReadBuffer(util::FileSource& src, util::Sha256* digest, uint64_t start = 0)
      : m_src(src), m_digest(digest), m_cap(initial_capacity(src, start)), m_base(start), m_start(start) {
    m_data.reset(new char[m_cap + k_padding]);
    std::memset(m_data.get(), 0, k_padding);  // the padding after no data (refill pads what it reads)
    if (start > 0) src.seek(start);
  }
  // A small file (a Claude Code session log) gets a buffer its size, not 1 MB.
  static size_t initial_capacity(const util::FileSource& src, uint64_t start) {
    if (src.size() == 0 || src.size() <= start || src.size() - start >= k_initial) return k_initial;
    return size_t(((src.size() - start) / 4096 + 1) * 4096);
  }
  // The absolute file offset of buffer position i.
  uint64_t offset(size_t i) const { return m_base + i; }

  char* data() { return m_data.get(); }
  size_t begin() const { return m_pos; }
  size_t end() const { return m_end; }
  bool eof() const { return m_eof; }
  // Bytes from `at` to the end of the allocation (for simdjson's padded views).
  size_t capacity_from(size_t at) const { return m_cap + k_padding - at; }
  void consume_to(size_t at) { m_pos = at; }
  uint64_t bytes_read() const { return m_total; }

  // Moves unconsumed bytes to the front and reads more. Offsets into the buffer shift by the
  // returned amount (subtract it). Returns false at end of input with nothing added.
  // Throws DataError when one record would exceed k_max_record.
  bool refill(size_t& shift) {
    shift = m_pos;
    if (m_pos > 0) {
      std::memmove(m_data.get(), m_data.get() + m_pos, m_end - m_pos);
      m_end -= m_pos;
      m_base += m_pos;
      m_pos = 0;
    }
    if (m_eof) return false;
    if (m_end == m_cap) {
      if (m_cap >= k_max_record)
        throw DataError(m_src.path() + ": a single record is larger than 256 MB");
      const size_t ncap = m_cap * 2;
      std::unique_ptr<char[]> n(new char[ncap + k_padding]);
      std::memcpy(n.get(), m_data.get(), m_end);
      m_data = std::move(n);
      m_cap = ncap;
    }
    const size_t got = m_src.read(m_data.get() + m_end, m_cap - m_end);
    if (got == 0) {
      m_eof = true;
      std::memset(m_data.get() + m_end, 0, k_padding);
      return false;
    }
    if (m_digest) m_digest->update(m_data.get() + m_end, got);
    if (m_total == 0 && m_start == 0 && got >= 3 && std::memcmp(m_data.get(), "\xEF\xBB\xBF", 3) == 0)
      m_pos = 3;  // UTF-8 BOM
    m_total += got;
    m_end += got;
    std::memset(m_data.get() + m_end, 0, k_padding);
    return true;
  }

 private:
  util::FileSource& m_src;
  util::Sha256* m_digest;
  size_t m_cap;
  std::unique_ptr<char[]> m_data;
  size_t m_pos = 0;
  size_t m_end = 0;
  uint64_t m_base = 0;  // absolute offset of m_data[0]
  uint64_t m_start = 0;
  uint64_t m_total = 0;
  bool m_eof = false;
};

}  // namespace billctl::ingest
