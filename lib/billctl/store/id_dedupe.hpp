// Finding repeated record ids in export files with bounded memory, so that 'report --input'
// counts what an import would store: a later record with the same id replaces the earlier one.
//
// Each record with an id is logged as (128-bit hash of the id, position); the log is sorted in
// runs of at most `max_in_memory` entries, spilled to temporary files, and merged. A position
// is (file, part, ordinal): the order in which an import would have seen the record.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

namespace billctl::store {

// Position of a record: input file, half of the file (two-thread reads), ordinal within it.
inline uint64_t record_position(uint64_t file, uint64_t part, uint64_t ordinal) {
  return file << 48 | part << 47 | ordinal;
}

class DuplicateFinder {
 public:
  explicit DuplicateFinder(size_t max_in_memory = size_t(1) << 18);  // 6 MB of entries (and as much to sort)
  ~DuplicateFinder();
  DuplicateFinder(const DuplicateFinder&) = delete;
  DuplicateFinder& operator=(const DuplicateFinder&) = delete;

  // Logs a record with a (non-empty) id at a position.
  void add(std::string_view id, uint64_t position);
  // Takes over everything `other` logged (the other half of a file).
  void absorb(DuplicateFinder& other);
  // Positions of records replaced by a later one with the same id, ascending. Consumes the log.
  // `replacing`, when given, receives the positions of the records that replace one (in no order).
  std::vector<uint64_t> superseded(std::vector<uint64_t>* replacing = nullptr);
  uint64_t logged() const { return m_logged; }

 private:
  struct Entry {
    uint64_t h1, h2, pos;
    bool operator<(const Entry& o) const {
      return h1 != o.h1 ? h1 < o.h1 : h2 != o.h2 ? h2 < o.h2 : pos < o.pos;
    }
  };
  void spill();
  void sort_log();
  size_t m_max;
  std::vector<Entry> m_buf;
  std::vector<Entry> m_scratch;  // the radix sort's other buffer
  struct Run {
    std::FILE* file;  // an anonymous temporary file
    uint64_t count;   // entries
    uint64_t split;   // the first entry whose hash has its top bit set (the halves merge apart)
  };
  std::vector<Run> m_runs;  // sorted runs
  uint64_t m_logged = 0;
};

}  // namespace billctl::store
