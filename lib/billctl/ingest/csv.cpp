#include "billctl/ingest/csv.hpp"

#include <cstring>

#include "billctl/util/simd.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace billctl::ingest {

// The common record: no quotes, ending within the buffer. The bytes are looked at 16 at a time;
// each separator found ends a field. Also notes whether every byte of the fields is printable
// ASCII (then text values need no further check). False: the general scan must read the record.
bool CsvReader::scan_plain(size_t start, size_t& end_out) {
#if defined(__SSE2__)
  const char* d = m_buf.data();
  const size_t end = m_buf.end();
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i lo = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7f);
  m_spans.clear();
  size_t field = start;
  unsigned odd = 0;  // bytes outside printable ASCII, other than the line end
  for (size_t i = start; i + 16 <= end; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    unsigned mask = unsigned(_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, nl)), _mm_cmpeq_epi8(v, quote))));
    const unsigned bad = unsigned(_mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(v, lo), _mm_cmpeq_epi8(v, del))));
    while (mask) {
      const size_t pos = i + size_t(__builtin_ctz(mask));
      const char c = d[pos];
      if (c == '"') return false;
      if (c == ',') {
        m_spans.emplace_back(field, pos);
        field = pos + 1;
      } else {  // the line end
        size_t fend = pos;
        if (fend > field && d[fend - 1] == '\r') --fend;
        m_spans.emplace_back(field, fend);
        // Bytes of this block before the line end (and its '\r') only. A '\r' that ended the
        // previous block was counted there: such a record is not vouched for (rare; still right).
        const size_t upto = fend > i ? fend - i : 0;  // 0..15
        odd |= bad & ((1u << upto) - 1);
        m_plain_text = odd == 0;
        end_out = pos;
        return true;
      }
      mask &= mask - 1;
    }
    odd |= bad;
  }
#else
  (void)start;
  (void)end_out;
#endif
  return false;
}

// Scans one record starting at `start`. Field spans go to m_spans (offsets into the buffer).
CsvReader::Scan CsvReader::scan_record(size_t start, size_t& end_out, size_t& newlines) {
  newlines = 0;
  m_any_escaped = false;
  if (scan_plain(start, end_out)) return Scan::done;
  m_plain_text = false;
  const char* d = m_buf.data();
  const size_t end = m_buf.end();
  const bool eof = m_buf.eof();
  m_spans.clear();
  m_escaped.clear();
  size_t i = start;
  for (;;) {
    // One field starting at i.
    if (i < end && d[i] == '"') {
      size_t j = i + 1;
      bool escaped = false;
      for (;;) {
        const void* q = std::memchr(d + j, '"', end - j);
        if (!q) {
          if (eof) {
            m_error = "unterminated quoted field";
            return Scan::bad;
          }
          return Scan::need_more;
        }
        const size_t qpos = size_t(static_cast<const char*>(q) - d);
        if (qpos + 1 >= end && !eof) return Scan::need_more;
        if (qpos + 1 < end && d[qpos + 1] == '"') {
          escaped = true;
          j = qpos + 2;
          continue;
        }
        for (size_t k = i + 1; k < qpos; ++k) newlines += d[k] == '\n';
        m_spans.emplace_back(i + 1, qpos);
        m_escaped.push_back(escaped);
        m_any_escaped = m_any_escaped || escaped;
        i = qpos + 1;
        break;
      }
      // After a closing quote: a separator, a line end, or the end of input.
      if (i >= end) {
        if (!eof) return Scan::need_more;
        end_out = i;
        return Scan::done;
      }
      if (d[i] == ',') {
        ++i;
        continue;
      }
      if (d[i] == '\n') {
        end_out = i;
        return Scan::done;
      }
      if (d[i] == '\r') {
        if (i + 1 >= end && !eof) return Scan::need_more;
        if (i + 1 >= end || d[i + 1] == '\n') {
          end_out = i;
          return Scan::done;
        }
      }
      m_error = "unexpected character after a closing quote (quotes inside a field must be doubled)";
      return Scan::bad;
    }
    // Unquoted field: up to ',' or line end.
    size_t j = size_t(util::find_csv_special(d + i, d + end) - d);
    if (j < end && d[j] == '"') {
      m_error = "quote inside an unquoted field (enclose the field in quotes and double the quote)";
      return Scan::bad;
    }
    if (j >= end && !eof) return Scan::need_more;
    size_t fend = j;
    if (j >= end || d[j] == '\n') {
      if (fend > i && d[fend - 1] == '\r') --fend;
      m_spans.emplace_back(i, fend);
      m_escaped.push_back(0);
      end_out = j;
      return Scan::done;
    }
    m_spans.emplace_back(i, fend);
    m_escaped.push_back(0);
    i = j + 1;
  }
}

CsvReader::Result CsvReader::next() {
  for (;;) {
    size_t start = m_buf.begin();
    if (m_buf.offset(start) >= m_limit) {
      m_stop = m_buf.offset(start);
      return Result::end;
    }
    if (start >= m_buf.end()) {
      size_t shift;
      if (!m_buf.refill(shift)) {
        m_stop = m_buf.offset(m_buf.begin());
        return Result::end;
      }
      continue;
    }
    size_t end = 0, newlines = 0;
    const Scan s = scan_record(start, end, newlines);
    if (s == Scan::need_more) {
      size_t shift;
      if (!m_buf.refill(shift) && !m_buf.eof()) return Result::end;
      continue;  // rescan from the (moved) record start; at eof the scan completes
    }
    const char* d = m_buf.data();
    m_record_line = m_line;
    if (s == Scan::bad) {
      // Skip to the end of the physical line where the problem was found and go on from there.
      size_t k = start;
      while (k < m_buf.end() && d[k] != '\n') ++k;
      m_raw = std::string_view(d + start, k - start);
      m_line += 1;
      m_buf.consume_to(k < m_buf.end() ? k + 1 : k);
      return Result::error;
    }
    size_t raw_end = end;
    if (raw_end > start && raw_end <= m_buf.end() && raw_end > 0 && d[raw_end - 1] == '\r' &&
        (raw_end == m_buf.end() || d[raw_end] == '\n'))
      --raw_end;
    m_raw = std::string_view(d + start, raw_end - start);
    m_line += newlines + 1;
    m_buf.consume_to(end < m_buf.end() ? end + 1 : end);
    // Fields; unescape "" into scratch (reserved once per record so views stay valid).
    m_fields.clear();
    if (!m_any_escaped) {
      for (const auto& [a, b] : m_spans) m_fields.emplace_back(d + a, b - a);
    } else {
      if (m_scratch.capacity() < end - start) m_scratch.reserve(end - start);
      m_scratch.clear();
    }
    for (size_t f = 0; m_any_escaped && f < m_spans.size(); ++f) {
      const auto [a, b] = m_spans[f];
      if (!m_escaped[f]) {
        m_fields.emplace_back(d + a, b - a);
        continue;
      }
      const size_t at = m_scratch.size();
      for (size_t k = a; k < b; ++k) {
        m_scratch.push_back(d[k]);
        if (d[k] == '"') ++k;  // skip the second quote of a pair
      }
      m_fields.emplace_back(m_scratch.data() + at, m_scratch.size() - at);
    }
    // A blank line is not a record.
    if (m_fields.size() == 1 && m_fields[0].empty() && m_raw.empty()) {
      if (m_buf.begin() >= m_buf.end() && m_buf.eof()) {
        m_stop = m_buf.offset(m_buf.begin());
        return Result::end;
      }
      continue;
    }
    return Result::record;
  }
}

}  // namespace billctl::ingest
