// Byte scanning for the parsers' hot loops, 16 bytes at a time with SSE2 (baseline x86-64),
// with a portable fallback. All functions read only within [p, end).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace billctl::util {

// The first of ',', '\n' or '"' in [p, end), or end.
inline const char* find_csv_special(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i quote = _mm_set1_epi8('"');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, nl)), _mm_cmpeq_epi8(v, quote));
    const int mask = _mm_movemask_epi8(m);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p < end; ++p)
    if (*p == ',' || *p == '\n' || *p == '"') return p;
  return end;
}

// True when every byte is printable ASCII (0x20..0x7e).
inline bool printable_ascii(std::string_view s) {
  const char* p = s.data();
  const char* end = p + s.size();
#if defined(__SSE2__)
  const __m128i lo = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7f);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed compare: bytes >= 0x80 are negative, so they count as "below 0x20" too.
    const __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, lo), _mm_cmpeq_epi8(v, del));
    if (_mm_movemask_epi8(bad) != 0) return false;
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// A fast non-cryptographic hash for short keys (model names, user names). Never stored: only
// in-memory tables use it. The last partial word is read without a call to memcpy.
inline uint64_t fast_hash(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (s.size() * 0xff51afd7ed558ccdull);
  const char* p = s.data();
  size_t n = s.size();
  const bool long_key = n >= 8;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  if (n > 0) {
    if (long_key) {  // the key's last 8 bytes, shifted down to the n that are left
      std::memcpy(&w, p + n - 8, 8);
      w >>= 8 * (8 - n);
    } else if (n >= 4) {
      uint32_t a, b;
      std::memcpy(&a, p, 4);
      std::memcpy(&b, p + n - 4, 4);
      w = a | uint64_t(b) << 32;
    } else {
      w = uint64_t(uint8_t(p[0])) | uint64_t(uint8_t(p[n / 2])) << 8 | uint64_t(uint8_t(p[n - 1])) << 16;
    }
  }
  h = (h ^ w) * 0x94d049bb133111ebull;
  h ^= h >> 32;
  return h;
}

// Equality of two byte ranges of length n. Keys are short: comparing words inline beats a call
// to memcmp. A tail shorter than a word is compared as one word ending at the last byte (it
// overlaps bytes already compared), or as two overlapping half words in a key shorter than 8.
inline bool same_bytes(const char* a, const char* b, size_t n) {
  auto word = [](const char* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  };
  auto half = [](const char* p) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
  };
  if (n >= 8) {
    const char* const last_a = a + n - 8;
    const char* const last_b = b + n - 8;
    for (; a < last_a; a += 8, b += 8)
      if (word(a) != word(b)) return false;
    return word(last_a) == word(last_b);
  }
  if (n >= 4) return half(a) == half(b) && half(a + n - 4) == half(b + n - 4);
  for (; n > 0; ++a, ++b, --n)
    if (*a != *b) return false;
  return true;
}

struct FastHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return size_t(fast_hash(s)); }
};

}  // namespace billctl::util
