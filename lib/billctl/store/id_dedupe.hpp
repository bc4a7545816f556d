// Finding repeated record ids in export files with bounded memory, so that 'report --input'
// counts what an import would store: a later record with the same id replaces the earlier one.
//
// Each record with an id is logged as 16 bytes: a 104-bit hash of the id and the entry's ordinal in
// its run, whose position the run keeps as stretches of consecutive positions (a position is
// (file, part, ordinal): the order in which an import would have seen the record; callers log
// them in ascending stretches, and each new stretch costs 16 bytes of memory until the end). The
// log is sorted in runs of at most `max_in_memory` entries, spilled to temporary files, and merged.
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
  explicit DuplicateFinder(size_t max_in_memory = size_t(1) << 18);  // 4 MB of entries (and as much to sort)
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
  static constexpr int k_ordinal_bits = 24;  // a run holds at most 2^24 entries
  static constexpr uint64_t k_ordinal_mask = (uint64_t(1) << k_ordinal_bits) - 1;
  struct Entry {
    uint64_t h1;  // the first hash
    uint64_t lo;  // the top 40 bits of the second hash, then the entry's ordinal in its run
    uint32_t ordinal() const { return uint32_t(lo & k_ordinal_mask); }
    bool same_id(const Entry& o) const { return h1 == o.h1 && (lo >> k_ordinal_bits) == (o.lo >> k_ordinal_bits); }
    bool operator<(const Entry& o) const { return h1 != o.h1 ? h1 < o.h1 : lo < o.lo; }
  };
  // The positions of a run's entries, by ordinal: stretches of consecutive positions.
  class Positions {
   public:
    void append(uint32_t ordinal, uint64_t position);
    uint64_t at(uint32_t ordinal) const;
    void clear() { m_stretches.clear(); }

   private:
    struct Stretch {
      uint32_t first;     // the ordinal of its first entry
      uint64_t position;  // of its first entry
    };
    std::vector<Stretch> m_stretches;
    uint64_t m_next = 0;  // the position that would continue the last stretch
  };
  void add_hashed(uint64_t h1, uint64_t h2, uint64_t position);
  void spill();
  void sort_log();
  size_t m_max;
  std::vector<Entry> m_buf;
  Positions m_positions;         // of m_buf's entries
  std::vector<Entry> m_scratch;  // the radix sort's other buffer
  struct Run {
    std::FILE* file;  // an anonymous temporary file
    uint64_t count;   // entries
    uint64_t split;   // the first entry whose hash has its top bit set (the halves merge apart)
    Positions positions;
  };
  std::vector<Run> m_runs;  // sorted runs
  uint64_t m_logged = 0;
};

}  // namespace billctl::store
