#include "billctl/util/strings.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace billctl::util {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

bool parse_u63(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  if (v > uint64_t(INT64_MAX)) return false;
  out = int64_t(v);
  return true;
}

std::string group_thousands(int64_t v) {
  const uint64_t m = v < 0 ? uint64_t(0) - uint64_t(v) : uint64_t(v);
  const std::string d = std::to_string(m);
  std::string out;
  const size_t n = d.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return v < 0 ? "-" + out : out;
}

namespace {
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = 3;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* e = p + s.size();
  while (p < e) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    if (e - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

// Decodes one UTF-8 sequence at s[i]; returns its length, 0 when invalid (cp unset).
size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  size_t n;
  if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
  else return 0;
  if (i + n >= s.size()) return 0;
  for (size_t k = 1; k <= n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n + 1;
}

namespace {

// Code points a terminal draws in no column: combining marks, zero-width characters,
// variation selectors.
bool zero_width(uint32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x0483 && cp <= 0x0489) || (cp >= 0x0591 && cp <= 0x05BD) ||
         (cp >= 0x0610 && cp <= 0x061A) || (cp >= 0x064B && cp <= 0x065F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
         (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x20D0 && cp <= 0x20FF) ||
         (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xFE20 && cp <= 0xFE2F) || cp == 0xFEFF ||
         (cp >= 0xE0100 && cp <= 0xE01EF);
}

// East Asian Wide and Fullwidth code points and emoji presentation (Unicode 15, the ranges
// terminals draw in two columns).
bool double_width(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || cp == 0x231A || cp == 0x231B || cp == 0x2329 || cp == 0x232A ||
         (cp >= 0x23E9 && cp <= 0x23EC) || cp == 0x23F0 || cp == 0x23F3 || cp == 0x25FD || cp == 0x25FE ||
         cp == 0x2614 || cp == 0x2615 || (cp >= 0x2648 && cp <= 0x2653) || cp == 0x267F || cp == 0x2693 ||
         cp == 0x26A1 || cp == 0x26AA || cp == 0x26AB || cp == 0x26BD || cp == 0x26BE || cp == 0x26C4 ||
         cp == 0x26C5 || cp == 0x26CE || cp == 0x26D4 || cp == 0x26EA || cp == 0x26F2 || cp == 0x26F3 ||
         cp == 0x26F5 || cp == 0x26FA || cp == 0x26FD || cp == 0x2705 || cp == 0x270A || cp == 0x270B ||
         cp == 0x2728 || cp == 0x274C || cp == 0x274E || (cp >= 0x2753 && cp <= 0x2755) || cp == 0x2757 ||
         (cp >= 0x2795 && cp <= 0x2797) || cp == 0x27B0 || cp == 0x27BF || cp == 0x2B1B || cp == 0x2B1C ||
         cp == 0x2B50 || cp == 0x2B55 || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0x33FF) ||
         (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
         (cp >= 0xA960 && cp <= 0xA97F) || (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE10 && cp <= 0xFE19) || (cp >= 0xFE30 && cp <= 0xFE6F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x16FE0 && cp <= 0x16FE4) || (cp >= 0x17000 && cp <= 0x18CFF) ||
         (cp >= 0x1B000 && cp <= 0x1B2FF) || cp == 0x1F004 || cp == 0x1F0CF || cp == 0x1F18E ||
         (cp >= 0x1F191 && cp <= 0x1F19A) || (cp >= 0x1F200 && cp <= 0x1F251) || (cp >= 0x1F300 && cp <= 0x1F320) ||
         (cp >= 0x1F32D && cp <= 0x1F335) || (cp >= 0x1F337 && cp <= 0x1F37C) || (cp >= 0x1F37E && cp <= 0x1F393) ||
         (cp >= 0x1F3A0 && cp <= 0x1F3CA) || (cp >= 0x1F3CF && cp <= 0x1F3D3) || (cp >= 0x1F3E0 && cp <= 0x1F3F0) ||
         cp == 0x1F3F4 || (cp >= 0x1F3F8 && cp <= 0x1F43E) || cp == 0x1F440 || (cp >= 0x1F442 && cp <= 0x1F4FC) ||
         (cp >= 0x1F4FF && cp <= 0x1F53D) || (cp >= 0x1F54B && cp <= 0x1F54E) || (cp >= 0x1F550 && cp <= 0x1F567) ||
         cp == 0x1F57A || cp == 0x1F595 || cp == 0x1F596 || cp == 0x1F5A4 || (cp >= 0x1F5FB && cp <= 0x1F64F) ||
         (cp >= 0x1F680 && cp <= 0x1F6C5) || cp == 0x1F6CC || (cp >= 0x1F6D0 && cp <= 0x1F6D2) ||
         (cp >= 0x1F6D5 && cp <= 0x1F6D7) || (cp >= 0x1F6DC && cp <= 0x1F6DF) || cp == 0x1F6EB || cp == 0x1F6EC ||
         (cp >= 0x1F6F4 && cp <= 0x1F6FC) || (cp >= 0x1F7E0 && cp <= 0x1F7EB) || cp == 0x1F7F0 ||
         (cp >= 0x1F90C && cp <= 0x1F93A) || (cp >= 0x1F93C && cp <= 0x1F945) || (cp >= 0x1F947 && cp <= 0x1F9FF) ||
         (cp >= 0x1FA70 && cp <= 0x1FAFF) || (cp >= 0x20000 && cp <= 0x2FFFD) || (cp >= 0x30000 && cp <= 0x3FFFD);
}

}  // namespace

size_t display_width(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t n = decode_utf8(s, i, cp);
    if (n == 0) {  // an invalid byte is shown as one replacement character
      ++w;
      ++i;
      continue;
    }
    i += n;
    if (cp < 0x20 || cp == 0x7F || zero_width(cp)) continue;
    w += double_width(cp) ? 2 : 1;
  }
  return w;
}

namespace {

// Each character's byte offset and display width (an invalid byte: one column).
std::vector<std::pair<size_t, size_t>> char_widths(std::string_view s) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = decode_utf8(s, i, cp);
    const size_t w = n == 0 ? 1 : (cp < 0x20 || cp == 0x7F || zero_width(cp)) ? 0 : double_width(cp) ? 2 : 1;
    out.push_back({i, w});
    i += n == 0 ? 1 : n;
  }
  return out;
}

}  // namespace

std::string shorten_end(std::string_view s, size_t width) {
  if (display_width(s) <= width) return std::string(s);
  if (width == 0) return {};
  const auto chars = char_widths(s);
  size_t used = 0, k = 0;
  for (; k < chars.size() && used + chars[k].second + 1 <= width; ++k) used += chars[k].second;
  const size_t end = k < chars.size() ? chars[k].first : s.size();
  return std::string(s.substr(0, end)) + "\u2026";
}

std::string shorten_middle(std::string_view s, size_t width) {
  if (display_width(s) <= width) return std::string(s);
  if (width < 3) return shorten_end(s, width);
  const auto chars = char_widths(s);
  const size_t room = width - 1, head_room = (room + 1) / 2, tail_room = room - head_room;
  size_t used = 0, head = 0;
  for (; head < chars.size() && used + chars[head].second <= head_room; ++head) used += chars[head].second;
  size_t tail = chars.size();
  used = 0;
  while (tail > head && used + chars[tail - 1].second <= tail_room) used += chars[--tail].second;
  const size_t head_end = head < chars.size() ? chars[head].first : s.size();
  const size_t tail_begin = tail < chars.size() ? chars[tail].first : s.size();
  return std::string(s.substr(0, head_end)) + "\u2026" + std::string(s.substr(tail_begin));
}

bool has_control(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9F)
      return true;  // C1 controls U+0080..U+009F (CSI is U+009B)
  }
  return false;
}

std::string escape_controls(std::string_view s, bool keep_newlines) {
  auto fast = [&] {
    for (size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x80 || c == 0x7F || (c < 0x20 && !(keep_newlines && c == '\n'))) return false;
    }
    return true;
  };
  if (fast()) return std::string(s);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 16);
  auto byte = [&](unsigned char c) {
    out += "\\x";
    out += k_hex[c >> 4];
    out += k_hex[c & 15];
  };
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      if (c == '\n' && keep_newlines) out += '\n';
      else if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else if (c == 0x1B) out += "\\e";
      else if (c == 0x07) out += "\\a";
      else if (c < 0x20 || c == 0x7F) byte(c);
      else out += char(c);
      continue;
    }
    uint32_t cp = 0;
    const size_t n = decode_utf8(s, i, cp);
    if (n == 0) {
      byte(c);
      ++i;
    } else if (cp >= 0x80 && cp <= 0x9F) {
      out += "\\u00";
      out += k_hex[cp >> 4];
      out += k_hex[cp & 15];
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string hex(const unsigned char* data, size_t n) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = k_digits[data[i] >> 4];
    out[2 * i + 1] = k_digits[data[i] & 15];
  }
  return out;
}

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
  if (!m_ctx || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(m_ctx), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("cannot initialise SHA-256");
}
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(m_ctx)); }
void Sha256::update(const void* data, size_t n) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(m_ctx), data, n);
}
void Sha256::digest(unsigned char out[32]) {
  unsigned int len = 32;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(m_ctx), out, &len);
}
std::string Sha256::hex_digest() {
  unsigned char md[32];
  digest(md);
  return hex(md, 32);
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.hex_digest();
}

std::string base64(std::string_view data, bool wrap) {
  static constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4 + data.size() / 57 * 2 + 2);
  size_t line = 0;
  for (size_t i = 0; i < data.size(); i += 3) {
    const uint32_t b0 = uint8_t(data[i]);
    const uint32_t b1 = i + 1 < data.size() ? uint8_t(data[i + 1]) : 0;
    const uint32_t b2 = i + 2 < data.size() ? uint8_t(data[i + 2]) : 0;
    const uint32_t v = (b0 << 16) | (b1 << 8) | b2;
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? k_alphabet[(v >> 6) & 63] : '=';
    out += i + 2 < data.size() ? k_alphabet[v & 63] : '=';
    line += 4;
    if (wrap && line == 76) {
      out += "\r\n";
      line = 0;
    }
  }
  if (wrap && line) out += "\r\n";
  return out;
}

std::vector<std::string> wrap_words(std::string_view text, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  size_t line_w = 0;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const size_t j = std::min(text.find(' ', i), text.size());
    if (j == i) break;
    const std::string_view word = text.substr(i, j - i);
    const size_t w = display_width(word);
    if (!line.empty() && line_w + 1 + w > width) {
      lines.push_back(std::move(line));
      line.clear();
      line_w = 0;
    }
    if (!line.empty()) {
      line += ' ';
      ++line_w;
    }
    line += word;
    line_w += w;
    i = j;
  }
  if (!line.empty() || lines.empty()) lines.push_back(std::move(line));
  return lines;
}

}  // namespace billctl::util
