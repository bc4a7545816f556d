#include <catch2/catch.hpp>

#include "billctl/render/table.hpp"
#include "billctl/usage/aggregate.hpp"
#include "billctl/util/error.hpp"
#include "billctl/util/strings.hpp"

using namespace billctl;

TEST_CASE("display width counts terminal columns", "[util][strings]") {
  CHECK(util::display_width("abc") == 3);
  CHECK(util::display_width("Zürich") == 6);
  CHECK(util::display_width("東京") == 4);           // CJK: two columns each
  CHECK(util::display_width("한국어") == 6);         // Hangul
  CHECK(util::display_width("ok 🚀") == 5);          // emoji: two columns
  CHECK(util::display_width("e\xcc\x81") == 1);      // e + combining acute
  CHECK(util::display_width("\x1b[31m") == 4);       // ESC itself takes no column
}

TEST_CASE("control characters are escaped, printable text is kept", "[util][strings]") {
  CHECK(util::escape_controls("plain ünïcödé 東京") == "plain ünïcödé 東京");
  CHECK(util::escape_controls("\x1b]0;pwned\a\x1b[31mevil") == "\\e]0;pwned\\a\\e[31mevil");
  CHECK(util::escape_controls("a\nb\tc\r") == "a\\nb\\tc\\r");
  CHECK(util::escape_controls("a\nb", true) == "a\nb");
  CHECK(util::escape_controls("csi \xc2\x9b" "31m") == "csi \\u009b31m");  // C1 CSI
  CHECK(util::escape_controls("bad \xff byte") == "bad \\xff byte");
  CHECK(util::escape_controls("del \x7f") == "del \\x7f");
  CHECK(util::has_control("a\x01"));
  CHECK(util::has_control("\xc2\x85"));
  CHECK_FALSE(util::has_control("Åsa Ødegård"));
}

TEST_CASE("table cells escape control characters and align wide characters", "[render][table]") {
  render::Table t;
  t.columns = {{"user", "user", render::Kind::text}, {"n", "n", render::Kind::integer}};
  t.rows = {{render::Value::of_text("東京"), render::Value::of_int(1)},
            {render::Value::of_text("ab"), render::Value::of_int(22)},
            {render::Value::of_text("x\x1b[2Jy"), render::Value::of_int(3)}};
  const std::string out = render::to_text(t, {});
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(out.find("x\\e[2Jy") != std::string::npos);
  // Every line has the same display width up to the last column's right edge.
  std::vector<size_t> widths;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1)
    widths.push_back(util::display_width(out.substr(start, nl - start)));
  REQUIRE(widths.size() == 5);
  CHECK(widths[0] == widths[2]);
  CHECK(widths[2] == widths[3]);
  CHECK(widths[3] == widths[4]);
}

TEST_CASE("token totals never wrap", "[usage][overflow]") {
  usage::Totals a;
  a.input_tokens = INT64_MAX - 5;
  usage::Totals b;
  b.input_tokens = 10;
  CHECK_THROWS_AS(a.add(b), DataError);
  // A record's non-negative counts, added unchecked and checked once: every count is watched.
  for (int64_t usage::Totals::*field : {&usage::Totals::records, &usage::Totals::requests, &usage::Totals::error_requests,
                                        &usage::Totals::input_tokens, &usage::Totals::cached_input_tokens,
                                        &usage::Totals::cache_write_tokens, &usage::Totals::cache_write_1h_tokens,
                                        &usage::Totals::output_tokens, &usage::Totals::unpriced_records}) {
    usage::Totals sum, one;
    sum.*field = INT64_MAX - 5;
    one.*field = 5;
    sum.add_nonnegative(one);
    CHECK(sum.*field == INT64_MAX);
    CHECK_THROWS_AS(sum.add_nonnegative(one), DataError);
  }
  usage::Totals c;
  c.input_tokens = INT64_MAX / 2 + 1;
  c.output_tokens = INT64_MAX / 2 + 1;
  CHECK_THROWS_AS(c.tokens(), DataError);
}

#include <toml++/toml.h>

#include "billctl/util/toml_guard.hpp"

TEST_CASE("TOML is rewritten to ASCII with the same values, or refused naming the line", "[util][toml]") {
  const std::string doc =
      "# Zürich office \xE2\x80\x94 comments may hold anything\n"
      "name = \"Torstraße 42\"\n"
      "lit = 'C:\\path\\Åsa \"q\"'\n"
      "multi = \"\"\"\nÖdegård\nline \\\"two\\\" end\"\"\"\n"
      "mlit = '''\nΑθήνα \\n'' '''\n"
      "emoji = \"🚀\"\n"
      "\"quoted key ü\" = 1\n";
  std::string why;
  const std::string ascii = util::toml_ascii(doc, why);
  REQUIRE(why.empty());
  for (unsigned char c : ascii) REQUIRE(c < 0x80);
  const auto a = toml::parse(doc, std::string_view("a.toml"));
  const auto b = toml::parse(ascii, std::string_view("b.toml"));
  for (const char* k : {"name", "lit", "multi", "mlit", "emoji"})
    CHECK(a[k].value<std::string>().value_or("-") == b[k].value<std::string>().value_or("+"));
  CHECK(b["quoted key ü"].value<int64_t>() == 1);
  CHECK(b["multi"].value<std::string>().value_or("") == "Ödegård\nline \"two\" end");
  // Non-ASCII outside strings (invalid TOML, and where toml++ 3.3 has undefined behaviour).
  CHECK(util::toml_ascii("a = 1\nkü = 2\n", why).empty());
  CHECK(why == "2: a non-ASCII character outside a quoted string (TOML keys and values are ASCII unless quoted)");
  why.clear();
  CHECK(util::toml_ascii("x =2[\"Torstraße\"]\n", why) == "x =2[\"Torstra\\u00DFe\"]\n");
  CHECK(util::toml_ascii("bad = \"\xff\"\n", why).empty());
}

TEST_CASE("words wrap at spaces by display width", "[util][strings]") {
  using billctl::util::wrap_words;
  CHECK(wrap_words("the store is fine", 80) == std::vector<std::string>{"the store is fine"});
  CHECK(wrap_words("the store is fine", 9) == std::vector<std::string>{"the store", "is fine"});
  CHECK(wrap_words("a /very/long/path/that/does/not/fit b", 10) ==
        std::vector<std::string>{"a", "/very/long/path/that/does/not/fit", "b"});
  CHECK(wrap_words("日本語 の 店", 7) == std::vector<std::string>{"日本語", "の 店"});
  CHECK(wrap_words("", 10) == std::vector<std::string>{""});
}
