// A streaming RFC 4180 reader: quoted fields, "" escapes, embedded newlines, CRLF or LF line
// ends, a UTF-8 BOM. Fields are views into the read buffer (or a scratch buffer for fields with
// escaped quotes) valid until the next call; nothing is allocated per row once buffers are warm.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "billctl/ingest/buffer.hpp"

namespace billctl::ingest {

class CsvReader {
 public:
  enum class Result { record, end, error };

  explicit CsvReader(ReadBuffer& buf) : m_buf(buf) {}
  // Records starting at or after this absolute offset are not read (end is returned instead).
  void set_limit(uint64_t offset) { m_limit = offset; }
  // The line number of the first byte (when reading starts inside a file).
  void set_line(uint64_t line) { m_line = line; }
  // Where reading stopped: the absolute offset of the first record not read.
  uint64_t stop_offset() const { return m_stop; }
  // The line of the next unread byte.
  uint64_t next_line() const { return m_line; }

  // Reads the next record. On `error`, error() says why and the reader has skipped to the
  // next line, so reading can go on.
  Result next();
  const std::vector<std::string_view>& fields() const { return m_fields; }
  // The line on which the current record starts (1-based).
  uint64_t line() const { return m_record_line; }
  // The raw bytes of the current record, without its line end.
  std::string_view raw() const { return m_raw; }
  const std::string& error() const { return m_error; }
  // True when every byte of the current record's fields is printable ASCII (0x20..0x7e): no
  // UTF-8, no control characters. Text values then need no further check.
  bool plain_text() const { return m_plain_text; }

 private:
  enum class Scan { done, need_more, bad };
  Scan scan_record(size_t start, size_t& end_out, size_t& newlines);
  bool scan_plain(size_t start, size_t& end_out);

  ReadBuffer& m_buf;
  std::vector<std::string_view> m_fields;
  std::vector<std::pair<size_t, size_t>> m_spans;  // offsets of each field
  std::vector<uint8_t> m_escaped;  // per field, when !m_any_escaped is false
  bool m_any_escaped = false;
  bool m_plain_text = false;
  std::string m_scratch;
  std::string_view m_raw;
  std::string m_error;
  uint64_t m_line = 1;  // line of the next unread byte
  uint64_t m_limit = UINT64_MAX;
  uint64_t m_stop = 0;
  uint64_t m_record_line = 0;
};

}  // namespace billctl::ingest
