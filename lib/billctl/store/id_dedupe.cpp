#include "billctl/store/id_dedupe.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <queue>

#include "billctl/util/error.hpp"

namespace billctl::store {

namespace {

// Two independent 64-bit hashes (FNV-1a and a multiply-xorshift over 8-byte words): a false
// match of two different ids needs both to collide (about 1 in 2^128 per pair).
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

uint64_t mix(std::string_view s) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (s.size() * 0xff51afd7ed558ccdull);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * 0xff51afd7ed558ccdull;
  h ^= h >> 32;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 29);
}

[[noreturn]] void io_failure(const char* what) {
  throw DataError(std::string("cannot ") + what + " the temporary id log: " + std::strerror(errno ? errno : EIO));
}

}  // namespace

DuplicateFinder::DuplicateFinder(size_t max_in_memory) : m_max(std::max<size_t>(max_in_memory, 16)) {}

DuplicateFinder::~DuplicateFinder() {
  for (std::FILE* f : m_runs) std::fclose(f);
}

void DuplicateFinder::add(std::string_view id, uint64_t position) {
  m_buf.push_back({fnv1a(id), mix(id), position});
  ++m_logged;
  if (m_buf.size() >= m_max) spill();
}

void DuplicateFinder::spill() {
  if (m_buf.empty()) return;
  std::sort(m_buf.begin(), m_buf.end());
  std::FILE* f = std::tmpfile();
  if (!f) io_failure("create");
  m_runs.push_back(f);
  if (std::fwrite(m_buf.data(), sizeof(Entry), m_buf.size(), f) != m_buf.size()) io_failure("write");
  if (std::fflush(f) != 0 || std::fseek(f, 0, SEEK_SET) != 0) io_failure("write");
  m_buf.clear();
}

void DuplicateFinder::absorb(DuplicateFinder& other) {
  m_runs.insert(m_runs.end(), other.m_runs.begin(), other.m_runs.end());
  other.m_runs.clear();
  for (const Entry& e : other.m_buf) {
    m_buf.push_back(e);
    if (m_buf.size() >= m_max) spill();
  }
  m_logged += other.m_logged;
  other.m_buf.clear();
  other.m_logged = 0;
}

std::vector<uint64_t> DuplicateFinder::superseded() {
  std::vector<uint64_t> out;
  // Equal ids are adjacent in (hash, position) order: all but the last position are replaced.
  Entry prev{};
  bool have = false;
  auto visit = [&](const Entry& e) {
    if (have && e.h1 == prev.h1 && e.h2 == prev.h2) out.push_back(prev.pos);
    prev = e;
    have = true;
  };
  if (m_runs.empty()) {
    std::sort(m_buf.begin(), m_buf.end());
    for (const Entry& e : m_buf) visit(e);
  } else {
    spill();
    // k-way merge of the sorted runs, reading each in blocks.
    struct Cursor {
      std::FILE* f;
      std::vector<Entry> block;
      size_t at = 0;
      bool next() {
        if (++at < block.size()) return true;
        block.resize(4096);
        const size_t n = std::fread(block.data(), sizeof(Entry), block.size(), f);
        block.resize(n);
        at = 0;
        return n > 0;
      }
    };
    std::vector<Cursor> cursors;
    for (std::FILE* f : m_runs) cursors.push_back({f, {}, 0});
    auto later = [&](size_t a, size_t b) { return cursors[b].block[cursors[b].at] < cursors[a].block[cursors[a].at]; };
    std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
    for (size_t i = 0; i < cursors.size(); ++i) {
      cursors[i].at = SIZE_MAX;  // next() starts the first block
      cursors[i].block.clear();
      if (cursors[i].next()) heap.push(i);
    }
    while (!heap.empty()) {
      const size_t i = heap.top();
      heap.pop();
      visit(cursors[i].block[cursors[i].at]);
      if (cursors[i].next()) heap.push(i);
    }
    for (std::FILE* f : m_runs) std::fclose(f);
    m_runs.clear();
  }
  m_buf.clear();
  m_buf.shrink_to_fit();
  m_logged = 0;
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace billctl::store
