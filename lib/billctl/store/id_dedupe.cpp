#include "billctl/store/id_dedupe.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <queue>
#include <thread>
#include <utility>

#include "billctl/util/error.hpp"

namespace billctl::store {

namespace {

// Two independent 64-bit hashes of the id, computed together over its 8-byte words (two
// multiply-xorshift lanes with different constants and seeds). The log keeps the first and 40 bits
// of the second: a false match of two different ids needs 104 bits to collide (about 1 in 2^104
// per pair; 1 in 10^17 for 30M records).
void hash_id(std::string_view s, uint64_t& h1, uint64_t& h2) {
  uint64_t a = 0x9e3779b97f4a7c15ull ^ (s.size() * 0xff51afd7ed558ccdull);
  uint64_t b = 0xcbf29ce484222325ull ^ (s.size() * 0x94d049bb133111ebull);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    a = (a ^ w) * 0xc4ceb9fe1a85ec53ull;
    a ^= a >> 29;
    b = (b ^ w) * 0xbf58476d1ce4e5b9ull;
    b ^= b >> 31;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  a = (a ^ tail) * 0xff51afd7ed558ccdull;
  a ^= a >> 32;
  a *= 0xc4ceb9fe1a85ec53ull;
  h1 = a ^ (a >> 29);
  b = (b ^ tail) * 0x94d049bb133111ebull;
  b ^= b >> 31;
  b *= 0xd6e8feb86659fd93ull;
  h2 = b ^ (b >> 32);
}

[[noreturn]] void io_failure(const char* what) {
  throw DataError(std::string("cannot ") + what + " the temporary id log: " + std::strerror(errno ? errno : EIO));
}

}  // namespace

DuplicateFinder::DuplicateFinder(size_t max_in_memory)
    : m_max(std::clamp<size_t>(max_in_memory, 16, size_t(1) << k_ordinal_bits)) {}

DuplicateFinder::~DuplicateFinder() {
  for (const Run& r : m_runs) std::fclose(r.file);
}

void DuplicateFinder::Positions::append(uint32_t ordinal, uint64_t position) {
  if (m_stretches.empty() || position != m_next) m_stretches.push_back({ordinal, position});
  m_next = position + 1;
}

uint64_t DuplicateFinder::Positions::at(uint32_t ordinal) const {
  auto it = std::upper_bound(m_stretches.begin(), m_stretches.end(), ordinal,
                             [](uint32_t o, const Stretch& s) { return o < s.first; });
  --it;  // the first stretch starts at ordinal 0
  return it->position + (ordinal - it->first);
}

void DuplicateFinder::add(std::string_view id, uint64_t position) {
  uint64_t h1, h2;
  hash_id(id, h1, h2);
  add_hashed(h1, h2, position);
  ++m_logged;
}

void DuplicateFinder::add_hashed(uint64_t h1, uint64_t h2, uint64_t position) {
  const auto ordinal = uint32_t(m_buf.size());
  m_positions.append(ordinal, position);
  m_buf.push_back({h1, (h2 & ~k_ordinal_mask) | ordinal});
  if (m_buf.size() >= m_max) spill();
}

// Sorts the log: three radix passes on the top 33 bits of h1 (random: equal prefixes are rare),
// then each run of equal prefixes by the whole entry.
void DuplicateFinder::sort_log() {
  constexpr int k_bits = 11;
  constexpr size_t k_buckets = size_t(1) << k_bits;
  m_scratch.resize(m_buf.size());
  std::vector<size_t> count(k_buckets);
  for (int pass = 0; pass < 3; ++pass) {
    const int shift = 64 - k_bits * (3 - pass);
    std::fill(count.begin(), count.end(), 0);
    for (const Entry& e : m_buf) ++count[(e.h1 >> shift) & (k_buckets - 1)];
    size_t at = 0;
    for (size_t& c : count) at += std::exchange(c, at);
    for (const Entry& e : m_buf) m_scratch[count[(e.h1 >> shift) & (k_buckets - 1)]++] = e;
    m_buf.swap(m_scratch);
  }
  constexpr int k_sorted = 64 - 3 * k_bits;
  for (size_t i = 0; i < m_buf.size();) {
    size_t j = i + 1;
    while (j < m_buf.size() && (m_buf[j].h1 >> k_sorted) == (m_buf[i].h1 >> k_sorted)) ++j;
    if (j - i > 1) std::sort(m_buf.begin() + ptrdiff_t(i), m_buf.begin() + ptrdiff_t(j));
    i = j;
  }
  m_scratch.clear();
}

void DuplicateFinder::spill() {
  if (m_buf.empty()) return;
  sort_log();
  std::FILE* f = std::tmpfile();
  if (!f) io_failure("create");
  const auto split = std::partition_point(m_buf.begin(), m_buf.end(), [](const Entry& e) { return e.h1 >> 63 == 0; });
  m_runs.push_back({f, m_buf.size(), uint64_t(split - m_buf.begin()), std::exchange(m_positions, {})});
  if (std::fwrite(m_buf.data(), sizeof(Entry), m_buf.size(), f) != m_buf.size()) io_failure("write");
  if (std::fflush(f) != 0) io_failure("write");
  m_buf.clear();
}

void DuplicateFinder::absorb(DuplicateFinder& other) {
  for (Run& r : other.m_runs) m_runs.push_back(std::move(r));
  other.m_runs.clear();
  // Its entries are still in the order logged (only a spill sorts them).
  for (const Entry& e : other.m_buf) add_hashed(e.h1, e.lo, other.m_positions.at(e.ordinal()));
  m_logged += other.m_logged;
  other.m_buf.clear();
  other.m_positions.clear();
  other.m_logged = 0;
}

std::vector<uint64_t> DuplicateFinder::superseded(std::vector<uint64_t>* replacing) {
  // Equal ids are adjacent in hash order; of each group, all but the last position are replaced.
  // `out` and `rep` collect one half of the hash range's answers.
  struct Half {
    std::vector<uint64_t> out, rep, group;
    Entry prev{};
    const Positions* prev_positions = nullptr;
    void visit(const Entry& e, const Positions& positions, bool with_rep) {
      if (prev_positions && e.same_id(prev)) {
        if (group.empty()) group.push_back(prev_positions->at(prev.ordinal()));
        group.push_back(positions.at(e.ordinal()));
      } else {
        finish(with_rep);
      }
      prev = e;
      prev_positions = &positions;
    }
    void finish(bool with_rep) {
      if (group.empty()) return;
      std::sort(group.begin(), group.end());
      out.insert(out.end(), group.begin(), group.end() - 1);
      if (with_rep) rep.insert(rep.end(), group.begin() + 1, group.end());
      group.clear();
    }
  };
  const bool with_rep = replacing != nullptr;
  std::vector<uint64_t> out;
  if (m_runs.empty()) {
    sort_log();
    Half h;
    for (const Entry& e : m_buf) h.visit(e, m_positions, with_rep);
    h.finish(with_rep);
    out = std::move(h.out);
    if (replacing) replacing->insert(replacing->end(), h.rep.begin(), h.rep.end());
  } else {
    spill();
    // A k-way merge of the sorted runs for each half of the hash range (an id's entries are all in
    // one half), the two halves on two threads; each run is read in blocks with pread.
    auto merge_half = [&](bool upper, Half& h) {
      struct Cursor {
        int fd;
        uint64_t next, end;  // entries still to read: [next, end)
        const Positions* positions;
        std::vector<Entry> block;
        size_t at = 0;
        bool advance() {
          if (++at < block.size()) return true;
          const uint64_t n = std::min<uint64_t>(4096, end - next);
          block.resize(n);
          at = 0;
          if (n == 0) return false;
          const size_t bytes = n * sizeof(Entry);
          size_t got = 0;
          while (got < bytes) {
            const ssize_t r = ::pread(fd, reinterpret_cast<char*>(block.data()) + got, bytes - got, off_t(next * sizeof(Entry) + got));
            if (r <= 0) io_failure("read");
            got += size_t(r);
          }
          next += n;
          return true;
        }
      };
      std::vector<Cursor> cursors;
      for (const Run& r : m_runs)
        cursors.push_back({::fileno(r.file), upper ? r.split : 0, upper ? r.count : r.split, &r.positions, {}, SIZE_MAX});
      auto later = [&](size_t a, size_t b) { return cursors[b].block[cursors[b].at] < cursors[a].block[cursors[a].at]; };
      std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
      for (size_t i = 0; i < cursors.size(); ++i)
        if (cursors[i].advance()) heap.push(i);
      while (!heap.empty()) {
        const size_t i = heap.top();
        heap.pop();
        h.visit(cursors[i].block[cursors[i].at], *cursors[i].positions, with_rep);
        if (cursors[i].advance()) heap.push(i);
      }
      h.finish(with_rep);
    };
    Half low, high;
    std::exception_ptr error;
    if (std::thread::hardware_concurrency() >= 2) {
      std::thread t([&] {
        try {
          merge_half(true, high);
        } catch (...) {
          error = std::current_exception();
        }
      });
      merge_half(false, low);
      t.join();
      if (error) std::rethrow_exception(error);
    } else {
      merge_half(false, low);
      merge_half(true, high);
    }
    for (const Run& r : m_runs) std::fclose(r.file);
    m_runs.clear();
    out = std::move(low.out);
    out.insert(out.end(), high.out.begin(), high.out.end());
    if (replacing) {
      replacing->insert(replacing->end(), low.rep.begin(), low.rep.end());
      replacing->insert(replacing->end(), high.rep.begin(), high.rep.end());
    }
  }
  m_buf.clear();
  m_buf.shrink_to_fit();
  m_scratch.shrink_to_fit();
  m_positions.clear();
  m_logged = 0;
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace billctl::store
