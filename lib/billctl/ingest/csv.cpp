#include "billctl/ingest/csv.hpp"

#include <cstring>

#include "billctl/util/simd.hpp"

namespace billctl::ingest {

// Scans one record starting at `start`. Field spans go to m_spans (offsets into the buffer).
CsvReader::Scan CsvReader::scan_record(size_t start, size_t& end_out, size_t& newlines) {
  const char* d = m_buf.data();
  const size_t end = m_buf.end();
  const bool eof = m_buf.eof();
  m_spans.clear();
  m_escaped.clear();
  newlines = 0;
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
    bool any_escaped = false;
    for (uint8_t e : m_escaped) any_escaped = any_escaped || e;
    if (any_escaped && m_scratch.capacity() < end - start) m_scratch.reserve(end - start);
    m_scratch.clear();
    for (size_t f = 0; f < m_spans.size(); ++f) {
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
