#include "billctl/ingest/claude_line.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <climits>

namespace billctl::ingest {

namespace {

// Deeper lines go to simdjson (whose limit is far above what Claude Code writes).
constexpr int k_max_depth = 64;

// A count as json_count reads it: a non-negative integer that fits int64, else 0.
int64_t count_of(std::string_view token) {
  if (token.empty() || token[0] == '-') return 0;  // negative (or -0): 0 either way
  int64_t n = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return 0;  // a fraction or an exponent: not an integer
    const int d = c - '0';
    if (n > (INT64_MAX - d) / 10) return 0;
    n = n * 10 + d;
  }
  return n;
}

bool hex4(const char* q) {
  for (int i = 0; i < 4; ++i) {
    const char c = q[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

unsigned hex_value(const char* q) {
  unsigned v = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = q[i];
    v = v * 16 + unsigned(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

// The first '"', '\' or control byte in [q, end), or end.
const char* find_string_special(const char* q, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1f);
  for (; end - q >= 16; q += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    // v <= 0x1f unsigned: min(v, 0x1f) == v.
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)), _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
    const int m = _mm_movemask_epi8(special);
    if (m != 0) return q + __builtin_ctz(unsigned(m));
  }
#endif
  for (; q < end; ++q) {
    const auto c = static_cast<unsigned char>(*q);
    if (c == '"' || c == '\\' || c < 0x20) return q;
  }
  return end;
}

// A validating walk over one JSON text. Every function returns false on anything that is not
// valid JSON or that the scanner leaves to simdjson; the caller then gives up on the line.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : m_p(s.data()), m_end(s.data() + s.size()) {}

  bool at_end() {
    ws();
    return m_p == m_end;
  }
  char peek() const { return m_p < m_end ? *m_p : '\0'; }
  void ws() {
    while (m_p < m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\r' || *m_p == '\n')) ++m_p;
  }

  // A string at the cursor (a quote); `out` its raw contents, `plain` whether it has no escapes.
  bool string(std::string_view& out, bool& plain) {
    const char* start = ++m_p;
    const char* q = start;
    plain = true;
    for (;;) {
      q = find_string_special(q, m_end);
      if (q >= m_end || static_cast<unsigned char>(*q) < 0x20) return false;
      if (*q == '"') break;
      plain = false;  // a backslash
      if (m_end - q < 2) return false;
      switch (q[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': q += 2; break;
        case 'u': {
          if (m_end - q < 6 || !hex4(q + 2)) return false;
          const unsigned u = hex_value(q + 2);
          q += 6;
          if (u >= 0xDC00 && u <= 0xDFFF) return false;  // a low surrogate alone
          if (u >= 0xD800 && u <= 0xDBFF) {                // a high one needs its low half next
            if (m_end - q < 6 || q[0] != '\\' || q[1] != 'u' || !hex4(q + 2)) return false;
            const unsigned lo = hex_value(q + 2);
            if (lo < 0xDC00 || lo > 0xDFFF) return false;
            q += 6;
          }
          break;
        }
        default: return false;
      }
    }
    out = std::string_view(start, size_t(q - start));
    m_p = q + 1;
    return true;
  }

  // A string field read by billing: no escapes (simdjson would unescape them), else give up.
  bool read_string(std::string_view& out) {
    if (peek() != '"') return skip_value(1);
    bool plain;
    std::string_view s;
    if (!string(s, plain) || !plain) return false;
    out = s;
    return true;
  }

  // A count (json_count): a number's value, 0 for any other value.
  bool read_count(int64_t& out) {
    const char c = peek();
    if (c == '-' || (c >= '0' && c <= '9')) {
      std::string_view token;
      if (!number(token)) return false;
      out = count_of(token);
      return true;
    }
    out = 0;
    return skip_value(1);
  }

  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  bool number(std::string_view& token) {
    const char* start = m_p;
    if (peek() == '-') ++m_p;
    if (peek() == '0') ++m_p;
    else if (!digits()) return false;
    if (peek() == '.' && (++m_p, !digits())) return false;
    if (peek() == 'e' || peek() == 'E') {
      ++m_p;
      if (peek() == '+' || peek() == '-') ++m_p;
      if (!digits()) return false;
    }
    token = std::string_view(start, size_t(m_p - start));
    return true;
  }

  // Any value at the cursor, validated and passed over, containers included (at `depth`, nesting
  // up to k_max_depth). One loop with a stack of open containers rather than a call per value:
  // most of a line is content that is only passed over.
  bool skip_value(int depth) {
    bool in_object[k_max_depth + 2];
    int level = 0;  // open containers
    std::string_view s;
    bool plain;
  value:
    switch (peek()) {
      case '"':
        if (!string(s, plain)) return false;
        break;
      case '{':
      case '[': {
        if (depth + level > k_max_depth) return false;
        const bool object = *m_p == '{';
        in_object[level++] = object;
        ++m_p;
        ws();
        if (peek() == (object ? '}' : ']')) {
          ++m_p;
          --level;
          break;
        }
        if (object) goto key;
        goto value;
      }
      case 't':
        if (!word("true")) return false;
        break;
      case 'f':
        if (!word("false")) return false;
        break;
      case 'n':
        if (!word("null")) return false;
        break;
      default:
        if (!number(s)) return false;
    }
  after_value:
    if (level == 0) return true;
    ws();
    if (peek() == ',') {
      ++m_p;
      ws();
      if (in_object[level - 1]) goto key;
      goto value;
    }
    if (peek() != (in_object[level - 1] ? '}' : ']')) return false;
    ++m_p;
    --level;
    goto after_value;
  key:
    // Keys of a value passed over may have escapes: nothing compares them.
    if (peek() != '"' || !string(s, plain)) return false;
    ws();
    if (peek() != ':') return false;
    ++m_p;
    ws();
    goto value;
  }

  // An object at the cursor: `field(key)` is called with the cursor on each value and must move
  // past it. Keys with escapes are left to simdjson (which unescapes them before comparing).
  template <class Fn>
  bool object(int depth, Fn&& field) {
    if (depth > k_max_depth || peek() != '{') return false;
    return sequence('}', [&] {
      std::string_view key;
      bool plain;
      if (peek() != '"' || !string(key, plain) || !plain) return false;
      ws();
      if (peek() != ':') return false;
      ++m_p;
      ws();
      return field(key);
    });
  }

  // The items of an array or object at the cursor (on its opening bracket), separated by commas,
  // up to `close`; `item` reads one.
  template <class Fn>
  bool sequence(char close, Fn&& item) {
    ++m_p;
    ws();
    if (peek() == close) {
      ++m_p;
      return true;
    }
    for (;;) {
      if (!item()) return false;
      ws();
      if (peek() == ',') {
        ++m_p;
        ws();
        continue;
      }
      if (peek() != close) return false;
      ++m_p;
      return true;
    }
  }

 private:
  bool digits() {
    const char* q = m_p;
    while (m_p < m_end && *m_p >= '0' && *m_p <= '9') ++m_p;
    return m_p > q;
  }
  bool word(std::string_view w) {
    if (size_t(m_end - m_p) < w.size() || std::string_view(m_p, w.size()) != w) return false;
    m_p += w.size();
    return true;
  }

  const char* m_p;
  const char* const m_end;
};

int64_t json_count(simdjson::ondemand::value v) {
  if (v.type() != simdjson::ondemand::json_type::number) return 0;
  int64_t n = 0;
  if (v.get_int64().get(n) != simdjson::SUCCESS || n < 0) return 0;
  return n;
}

}  // namespace

bool mentions_usage(std::string_view line) {
  static constexpr std::string_view k_word = "\"usage\"";
  const char* const p = line.data();
  size_t n = line.size();
  if (n < k_word.size()) return false;
#if defined(__SSE2__)
  // Candidates: a quote here and another six bytes on, 16 positions a step, last block first.
  const __m128i quote = _mm_set1_epi8('"');
  while (n >= 16 + 6) {
    const size_t at = n - 16 - 6;
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at + 6));
    unsigned m = unsigned(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, quote), _mm_cmpeq_epi8(b, quote))));
    while (m != 0) {
      const int bit = 31 - __builtin_clz(m);
      if (std::string_view(p + at + size_t(bit), k_word.size()) == k_word) return true;
      m &= ~(1u << bit);
    }
    n -= 16;
  }
#endif
  return std::string_view(p, std::min(n + 6, line.size())).find(k_word) != std::string_view::npos;
}

bool scan_claude_line(std::string_view line, ClaudeLine& out) {
  if (!simdjson::validate_utf8(line.data(), line.size())) return false;
  out = ClaudeLine{};
  Scanner s(line);
  s.ws();
  auto usage_field = [&](std::string_view key) {
    if (key == "input_tokens") return s.read_count(out.input);
    if (key == "output_tokens") return s.read_count(out.output);
    if (key == "cache_read_input_tokens") return s.read_count(out.cache_read);
    if (key == "cache_creation_input_tokens") return s.read_count(out.cache_write);
    if (key == "service_tier") return s.read_string(out.tier);
    if (key == "cache_creation" && s.peek() == '{') {
      out.has_split = true;
      return s.object(4, [&](std::string_view k) {
        if (k == "ephemeral_5m_input_tokens") return s.read_count(out.cache_write_5m);
        if (k == "ephemeral_1h_input_tokens") return s.read_count(out.cache_write_1h);
        return s.skip_value(5);
      });
    }
    return s.skip_value(4);
  };
  auto message_field = [&](std::string_view key) {
    if (key == "id") return s.read_string(out.msg_id);
    if (key == "model") return s.read_string(out.model);
    if (key == "usage" && s.peek() == '{') {
      out.has_usage = true;
      return s.object(3, usage_field);
    }
    return s.skip_value(3);
  };
  const bool ok = s.object(1, [&](std::string_view key) {
    if (key == "type") return s.read_string(out.type);
    if (key == "requestId") return s.read_string(out.request_id);
    if (key == "cwd") return s.read_string(out.cwd);
    if (key == "sessionId") return s.read_string(out.session);
    if (key == "timestamp") return s.read_string(out.timestamp);
    if (key == "message" && s.peek() == '{') return s.object(2, message_field);
    return s.skip_value(2);
  });
  return ok && s.at_end();
}

std::string parse_claude_line(simdjson::ondemand::parser& parser, std::string_view line, size_t capacity, ClaudeLine& out) {
  namespace od = simdjson::ondemand;
  out = ClaudeLine{};
  try {
    od::document doc = parser.iterate(simdjson::padded_string_view(line.data(), line.size(), capacity));
    for (auto field : doc.get_object()) {
      std::string_view key = field.unescaped_key();
      od::value v = field.value();
      if (key == "type" && v.type() == od::json_type::string) out.type = v.get_string();
      else if (key == "requestId" && v.type() == od::json_type::string) out.request_id = v.get_string();
      else if (key == "cwd" && v.type() == od::json_type::string) out.cwd = v.get_string();
      else if (key == "sessionId" && v.type() == od::json_type::string) out.session = v.get_string();
      else if (key == "timestamp" && v.type() == od::json_type::string) out.timestamp = v.get_string();
      else if (key == "message" && v.type() == od::json_type::object) {
        for (auto mf : v.get_object()) {
          std::string_view mk = mf.unescaped_key();
          od::value mv = mf.value();
          if (mk == "id" && mv.type() == od::json_type::string) out.msg_id = mv.get_string();
          else if (mk == "model" && mv.type() == od::json_type::string) out.model = mv.get_string();
          else if (mk == "usage" && mv.type() == od::json_type::object) {
            out.has_usage = true;
            for (auto uf : mv.get_object()) {
              std::string_view uk = uf.unescaped_key();
              od::value uv = uf.value();
              if (uk == "input_tokens") out.input = json_count(uv);
              else if (uk == "output_tokens") out.output = json_count(uv);
              else if (uk == "cache_read_input_tokens") out.cache_read = json_count(uv);
              else if (uk == "cache_creation_input_tokens") out.cache_write = json_count(uv);
              else if (uk == "service_tier" && uv.type() == od::json_type::string) out.tier = uv.get_string();
              else if (uk == "cache_creation" && uv.type() == od::json_type::object) {
                out.has_split = true;
                for (auto cf : uv.get_object()) {
                  std::string_view ck = cf.unescaped_key();
                  if (ck == "ephemeral_5m_input_tokens") out.cache_write_5m = json_count(cf.value());
                  else if (ck == "ephemeral_1h_input_tokens") out.cache_write_1h = json_count(cf.value());
                }
              }
            }
          }
        }
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    return std::string("invalid JSON: ") + simdjson::error_message(e.error());
  }
  return {};
}

}  // namespace billctl::ingest
