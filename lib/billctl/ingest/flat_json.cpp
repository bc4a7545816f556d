#include "billctl/ingest/flat_json.hpp"

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace billctl::ingest {

namespace {

// The end of a JSON number starting at p: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; null when
// there is none.
const char* number_end(const char* p, const char* end) {
  auto digits = [&] {
    const char* q = p;
    while (p < end && *p >= '0' && *p <= '9') ++p;
    return p > q;
  };
  if (p < end && *p == '-') ++p;
  if (p < end && *p == '0') ++p;
  else if (!digits()) return nullptr;
  if (p < end && *p == '.' && (++p, !digits())) return nullptr;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (!digits()) return nullptr;
  }
  return p;
}

}  // namespace

bool scan_flat_object(std::string_view line, FlatFields& fields, size_t& count) {
  const char* p = line.data();
  const char* const end = p + line.size();
  auto ws = [&] {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) ++p;
  };
  // The contents of a string starting at p (a quote); p moves past its closing quote.
  auto string = [&](std::string_view& out) {
    const char* q = ++p;
#if defined(__SSE2__)
    // 16 bytes at a time to the first quote, backslash, control or non-ASCII byte.
    const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\'), lo = _mm_set1_epi8(0x20);
    for (; end - q >= 16; q += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
      const int m = _mm_movemask_epi8(
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)), _mm_cmplt_epi8(v, lo)));
      if (m != 0) {
        q += __builtin_ctz(unsigned(m));
        break;
      }
    }
#endif
    while (q < end && *q != '"') {
      const auto c = static_cast<unsigned char>(*q);
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++q;
    }
    if (q >= end) return false;
    out = std::string_view(p, size_t(q - p));
    p = q + 1;
    return true;
  };
  count = 0;
  ws();
  if (p >= end || *p != '{') return false;
  ++p;
  ws();
  if (p < end && *p == '}') {
    ++p;
  } else {
    for (;;) {
      if (p >= end || *p != '"' || count == fields.size()) return false;
      FlatField& f = fields[count++];
      if (!string(f.key)) return false;
      ws();
      if (p >= end || *p != ':') return false;
      ++p;
      ws();
      if (p >= end) return false;
      if (*p == '"') {
        if (!string(f.value)) return false;
      } else if (*p == 'n') {
        if (end - p < 4 || std::string_view(p, 4) != "null") return false;
        p += 4;
        f.value = {};
      } else {
        const char* stop = number_end(p, end);
        if (!stop) return false;
        f.value = std::string_view(p, size_t(stop - p));
        p = stop;
      }
      ws();
      if (p < end && *p == ',') {
        ++p;
        ws();
        continue;
      }
      if (p < end && *p == '}') {
        ++p;
        break;
      }
      return false;
    }
  }
  ws();
  return p == end;
}


bool scan_flat_object_fast(std::string_view line, FlatFields& fields, size_t& count, bool& plain) {
  const char* const d = line.data();
  const size_t n = line.size();
  // Where the quotes are; a line with more than the table holds is left to the exact scanner.
  constexpr size_t k_max_quotes = 4 * 64;
  if (n > UINT16_MAX) return false;
  std::array<uint16_t, k_max_quotes> quotes;
  size_t nq = 0;
  bool del = false;
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\'), lo = _mm_set1_epi8(0x20), del_byte = _mm_set1_epi8(0x7f);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    // Signed compare: bytes >= 0x80 are negative, so they count as below 0x20 too.
    if (_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, slash), _mm_cmplt_epi8(v, lo))) != 0) return false;
    del = del || _mm_movemask_epi8(_mm_cmpeq_epi8(v, del_byte)) != 0;
    for (unsigned m = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote))); m != 0; m &= m - 1) {
      if (nq == k_max_quotes) return false;
      quotes[nq++] = uint16_t(i + size_t(__builtin_ctz(m)));
    }
  }
#endif
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(d[i]);
    if (c == '\\' || c < 0x20 || c >= 0x80) return false;
    del = del || c == 0x7f;
    if (c == '"') {
      if (nq == k_max_quotes) return false;
      quotes[nq++] = uint16_t(i);
    }
  }
  // Every quote delimits a string (there are no escapes): a string starts at the next quote.
  size_t p = 0, k = 0;
  auto spaces = [&] {
    while (p < n && d[p] == ' ') ++p;
  };
  auto string = [&](std::string_view& out) {
    if (k + 1 >= nq || quotes[k] != p) return false;
    out = std::string_view(d + p + 1, size_t(quotes[k + 1]) - p - 1);
    p = size_t(quotes[k + 1]) + 1;
    k += 2;
    return true;
  };
  count = 0;
  spaces();
  if (p >= n || d[p] != '{') return false;
  ++p;
  spaces();
  if (p < n && d[p] == '}') {
    ++p;
  } else {
    for (;;) {
      if (count == fields.size()) return false;
      FlatField& f = fields[count++];
      if (!string(f.key)) return false;
      spaces();
      if (p >= n || d[p] != ':') return false;
      ++p;
      spaces();
      if (p >= n) return false;
      if (d[p] == '"') {
        if (!string(f.value)) return false;
      } else if (d[p] == 'n') {
        if (n - p < 4 || std::string_view(d + p, 4) != "null") return false;
        p += 4;
        f.value = {};
      } else {
        const char* stop = number_end(d + p, d + n);
        if (!stop) return false;
        f.value = std::string_view(d + p, size_t(stop - (d + p)));
        p = size_t(stop - d);
      }
      spaces();
      if (p < n && d[p] == ',') {
        ++p;
        spaces();
        continue;
      }
      if (p < n && d[p] == '}') {
        ++p;
        break;
      }
      return false;
    }
  }
  spaces();
  plain = !del;
  return p == n && k == nq;
}

}  // namespace billctl::ingest
