#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "billctl/ingest/reader.hpp"
#include "billctl/money/decimal.hpp"
#include "billctl/util/io.hpp"

namespace test {

// A file in a fresh temp directory, removed with it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/billctl-unit-XXXXXX";
    m_path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + m_path + "'").c_str()); }
  std::string file(const std::string& name, const std::string& content) const {
    const std::string p = m_path + "/" + name;
    billctl::util::write_file_atomic(p, content);
    return p;
  }
  std::string path(const std::string& name) const { return m_path + "/" + name; }

 private:
  std::string m_path;
};

struct Collected {
  std::string id, model, user, feature;
  int64_t input = 0, output = 0, requests = 0;
  int64_t ts = 0;
  uint64_t line = 0;
};

// Collects records and rejects.
class Collector : public billctl::ingest::RecordHandler {
 public:
  std::vector<Collected> records;
  std::vector<std::pair<uint64_t, std::string>> rejects;
  void on_record(billctl::usage::UsageRecord& r, const billctl::ingest::Row& row) override {
    records.push_back({std::string(r.id), std::string(r.model), std::string(r.user), std::string(r.feature), r.input_tokens,
                       r.output_tokens, r.requests, r.timestamp, row.line});
  }
  void on_reject(const billctl::ingest::Row& row, const std::string& reason) override {
    rejects.emplace_back(row.line, reason);
  }
  std::vector<billctl::providers::BilledLine> billed;
  void on_billed(const billctl::providers::BilledLine& b, const billctl::ingest::Row&) override { billed.push_back(b); }
};

inline Collector read_text(const std::string& content, const std::string& name = "in.csv",
                           billctl::ingest::Format f = billctl::ingest::Format::auto_detect) {
  TempDir dir;
  const std::string p = dir.file(name, content);
  Collector c;
  billctl::ingest::read_source(p, f, {}, c);
  return c;
}

}  // namespace test

namespace test {
inline billctl::money::Decimal dec(const char* s) { return *billctl::money::Decimal::parse(s); }
}  // namespace test

#ifdef CATCH_VERSION_MAJOR
namespace Catch {
template <>
struct StringMaker<billctl::money::Decimal> {
  static std::string convert(const billctl::money::Decimal& d) { return d.to_string(); }
};
}  // namespace Catch
#endif
