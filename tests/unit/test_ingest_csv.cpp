#include <catch2/catch.hpp>

#include "billctl/ingest/csv.hpp"
#include "helpers.hpp"

using billctl::ingest::CsvReader;
using billctl::ingest::ReadBuffer;

namespace {

struct Parsed {
  std::vector<std::vector<std::string>> records;
  std::vector<uint64_t> lines;
  std::vector<std::string> errors;
};

Parsed parse(const std::string& content) {
  test::TempDir dir;
  const std::string p = dir.file("x.csv", content);
  billctl::util::FileSource src(p);
  ReadBuffer buf(src, nullptr);
  CsvReader r(buf);
  Parsed out;
  for (;;) {
    auto res = r.next();
    if (res == CsvReader::Result::end) break;
    if (res == CsvReader::Result::error) {
      out.errors.push_back(std::to_string(r.line()) + ": " + r.error());
      continue;
    }
    std::vector<std::string> rec;
    for (auto f : r.fields()) rec.emplace_back(f);
    out.records.push_back(rec);
    out.lines.push_back(r.line());
  }
  return out;
}

using Rows = std::vector<std::vector<std::string>>;

}  // namespace

TEST_CASE("RFC 4180: plain fields and line ends", "[ingest][csv]") {
  CHECK(parse("a,b,c\n1,2,3\n").records == Rows{{"a", "b", "c"}, {"1", "2", "3"}});
  CHECK(parse("a,b\r\n1,2\r\n").records == Rows{{"a", "b"}, {"1", "2"}});
  CHECK(parse("a,b\n1,2").records == Rows{{"a", "b"}, {"1", "2"}});  // no final line end
  CHECK(parse("a,,c\n").records == Rows{{"a", "", "c"}});
  CHECK(parse(",\n").records == Rows{{"", ""}});
  CHECK(parse("").records.empty());
  CHECK(parse("a\n\n\nb\n").records == Rows{{"a"}, {"b"}});  // blank lines are not records
}

TEST_CASE("RFC 4180: quoted fields", "[ingest][csv]") {
  CHECK(parse("\"a,b\",c\n").records == Rows{{"a,b", "c"}});
  CHECK(parse("\"say \"\"hi\"\"\",x\n").records == Rows{{"say \"hi\"", "x"}});
  CHECK(parse("\"\"\n").records == Rows{{""}});
  CHECK(parse("\"\"\"\"\n").records == Rows{{"\""}});
  CHECK(parse("\"a\"\r\n\"b\"").records == Rows{{"a"}, {"b"}});
  SECTION("embedded newlines keep line numbers right") {
    auto p = parse("h1,h2\n\"line1\nline2\",x\nnext,y\n");
    CHECK(p.records == Rows{{"h1", "h2"}, {"line1\nline2", "x"}, {"next", "y"}});
    CHECK(p.lines == std::vector<uint64_t>{1, 2, 4});
  }
  SECTION("CRLF inside a quoted field is data") {
    CHECK(parse("\"a\r\nb\",c\r\n").records == Rows{{"a\r\nb", "c"}});
  }
}

TEST_CASE("RFC 4180: a UTF-8 byte order mark is dropped", "[ingest][csv]") {
  CHECK(parse("\xEF\xBB\xBFid,x\n1,2\n").records == Rows{{"id", "x"}, {"1", "2"}});
}

TEST_CASE("malformed CSV is reported and skipped, never a crash", "[ingest][csv]") {
  SECTION("unterminated quote") {
    auto p = parse("a,b\n\"open,1\n");
    CHECK(p.records == Rows{{"a", "b"}});
    REQUIRE(p.errors.size() == 1);
    CHECK(p.errors[0] == "2: unterminated quoted field");
  }
  SECTION("text after a closing quote") {
    auto p = parse("\"a\"b,c\nok,1\n");
    REQUIRE(p.errors.size() == 1);
    CHECK(p.errors[0].find("after a closing quote") != std::string::npos);
    CHECK(p.records == Rows{{"ok", "1"}});
  }
  SECTION("a stray quote in an unquoted field") {
    auto p = parse("ab\"c,d\nok,1\n");
    REQUIRE(p.errors.size() == 1);
    CHECK(p.records == Rows{{"ok", "1"}});
  }
}

TEST_CASE("records larger than the read buffer", "[ingest][csv]") {
  const std::string big(3 << 20, 'x');  // 3 MB field, beyond the 1 MB initial buffer
  auto p = parse("a,b\n\"" + big + "\",1\nc,2\n");
  REQUIRE(p.records.size() == 3);
  CHECK(p.records[1][0].size() == big.size());
  CHECK(p.records[2] == std::vector<std::string>{"c", "2"});
}

TEST_CASE("records straddling buffer refills", "[ingest][csv][property]") {
  // Many quoted records with escapes so that every byte position meets a buffer boundary somewhere.
  std::string content = "a,b\n";
  Rows want{{"a", "b"}};
  for (int i = 0; i < 40000; ++i) {
    const std::string v = "v\"" + std::to_string(i) + "\n,";
    content += "\"v\"\"" + std::to_string(i) + "\n,\"," + std::to_string(i) + "\r\n";
    want.push_back({v, std::to_string(i)});
  }
  auto p = parse(content);
  CHECK(p.errors.empty());
  CHECK(p.records == want);
}

namespace {

// The plain_text() verdict of each record of `content`.
std::vector<bool> plain_verdicts(const std::string& content) {
  test::TempDir dir;
  billctl::util::FileSource src(dir.file("x.csv", content));
  ReadBuffer buf(src, nullptr);
  CsvReader r(buf);
  std::vector<bool> out;
  for (auto res = r.next(); res != CsvReader::Result::end; res = r.next())
    if (res == CsvReader::Result::record) out.push_back(r.plain_text());
  return out;
}

}  // namespace

TEST_CASE("a record says whether all its text is printable ASCII", "[ingest][csv]") {
  // Long enough that the 16-byte scan reads them (the general scan never vouches for a record).
  const std::string pad = ",0123456789abcdef0123456789";
  CHECK(plain_verdicts("alice" + pad + "\nbob" + pad + "\r\n") == std::vector<bool>{true, true});
  CHECK(plain_verdicts("caf\xc3\xa9" + pad + "\n") == std::vector<bool>{false});  // UTF-8
  CHECK(plain_verdicts("a\tb" + pad + "\n") == std::vector<bool>{false});         // a tab
  CHECK(plain_verdicts("a\rb" + pad + "\n") == std::vector<bool>{false});         // a CR inside
  CHECK(plain_verdicts("a\x7f" + pad + "\n") == std::vector<bool>{false});        // DEL
  CHECK(plain_verdicts("\"quoted\"" + pad + "\n") == std::vector<bool>{false});   // the general scan
  // What follows the line end in the same 16 bytes does not count against the record.
  CHECK(plain_verdicts("ab" + pad + "\n\xc3\xa9" + pad + "\n") == std::vector<bool>{true, false});
  // A CRLF split across two 16-byte blocks: the field ends before the '\r' all the same.
  const std::string split = "0123456789abcde\r\n0123456789abcdef0123456789abcdef\n";
  CHECK(parse(split).records == Rows{{"0123456789abcde"}, {"0123456789abcdef0123456789abcdef"}});
  CHECK(plain_verdicts(split).size() == 2);
}

TEST_CASE("the 16-byte scan and the general scan read the same fields", "[ingest][csv][property]") {
  // Random records of plain and quoted fields, CR and LF line ends, at every alignment.
  uint64_t seed = 7;
  auto rnd = [&](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  std::string content;
  Rows want;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::string> rec;
    const size_t fields = 1 + rnd(6);
    for (size_t f = 0; f < fields; ++f) {
      std::string v(rnd(30), 'a' + char(rnd(26)));
      if (rnd(10) == 0) v += "\xc3\xa9";
      if (fields == 1 && v.empty()) v = "z";  // a blank line is no record
      const bool quoted = rnd(8) == 0;
      if (quoted && rnd(2)) v += ",\"x";
      content += f ? "," : "";
      if (quoted) {
        content += '"';
        for (char c : v) content += c == '"' ? std::string("\"\"") : std::string(1, c);
        content += '"';
      } else {
        content += v;
      }
      rec.push_back(v);
    }
    content += rnd(3) == 0 ? "\r\n" : "\n";
    want.push_back(rec);
  }
  auto p = parse(content);
  CHECK(p.errors.empty());
  CHECK(p.records == want);
}
