#include <catch2/catch.hpp>

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "billctl/ingest/read_ahead.hpp"

using namespace billctl;

namespace {

// What a consumer saw, one line per call, every text field and number spelled out.
// ahead() notes each record's id (on the reading thread), put() checks its record came ahead first.
struct Recorder : ingest::ReadConsumer {
  std::vector<std::string> seen;
  int64_t fail_at = -1;  // throw on this record
  std::mutex ahead_mutex;
  std::vector<std::string> ahead_ids;
  size_t puts = 0;
  bool ahead_first = true;  // every put() came after its ahead(), in order
  void ahead(const usage::PricedRecord& pr) override {
    std::lock_guard<std::mutex> lock(ahead_mutex);
    ahead_ids.emplace_back(pr.record->id);
  }
  void put(const usage::PricedRecord& pr) override {
    const usage::UsageRecord& r = *pr.record;
    {
      std::lock_guard<std::mutex> lock(ahead_mutex);
      if (puts >= ahead_ids.size() || ahead_ids[puts] != r.id) ahead_first = false;
      ++puts;
    }
    if (int64_t(seen.size()) == fail_at) throw std::runtime_error("store failed at record " + std::to_string(fail_at));
    std::string s = "record";
    for (std::string_view v : {r.id, r.provider, r.model, r.organization, r.department, r.user, r.feature, r.project, r.meter, r.unit, r.session})
      s += " " + std::string(v);
    s += " " + std::to_string(r.timestamp) + " " + std::to_string(r.input_tokens) + " " + pr.cost.to_string();
    seen.push_back(s);
  }
  void put_billed(const providers::BilledLine& b) override { seen.push_back("billed " + b.key); }
  void source_done(const ingest::SourceStats& s) override { seen.push_back("done " + s.path); }
};

// Reads `n` records over two inputs (a billed line in between), each field distinct and of
// varied length; throws after record `fail_after` when that is not -1.
ingest::ReadFn reader(int n, int fail_after = -1) {
  return [=](ingest::RecordSink& sink, const std::function<void(const ingest::SourceStats&)>& done) {
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> text;
      for (int f = 0; f < 11; ++f) text.push_back(std::string(size_t((i * 7 + f) % 13), char('a' + f)) + std::to_string(i));
      usage::UsageRecord r;
      r.id = text[0], r.provider = text[1], r.model = text[2], r.organization = text[3], r.department = text[4];
      r.user = text[5], r.feature = text[6], r.project = text[7], r.meter = text[8], r.unit = text[9], r.session = text[10];
      r.timestamp = 1790812800 + i;
      r.input_tokens = i * 3;
      usage::PricedRecord pr;
      pr.record = &r;
      pr.cost = money::Decimal::parse(std::to_string(i) + ".25").value_or_throw();
      sink.put(pr);  // the text dies with this iteration: the sink must have copied it
      if (i == fail_after) throw DataError("bad row after record " + std::to_string(i));
      if (i == n / 2) {
        providers::BilledLine b;
        b.key = "line" + std::to_string(i);
        sink.put_billed(b);
        ingest::SourceStats s;
        s.path = "first.csv";
        done(s);
      }
    }
    ingest::SourceStats s;
    s.path = "second.csv";
    done(s);
  };
}

}  // namespace

TEST_CASE("read-ahead hands on every record, billed line and input end in order, with or without a thread", "[ingest][read_ahead]") {
  Recorder serial;
  ingest::read_ahead(reader(1000), serial, false);
  REQUIRE(serial.seen.size() == 1003);
  CHECK(serial.seen[0] == "record 0 b0 cc0 ddd0 eeee0 fffff0 gggggg0 hhhhhhh0 iiiiiiii0 jjjjjjjjj0 kkkkkkkkkk0 1790812800 0 0.25");
  CHECK(serial.seen[501] == "billed line500");
  CHECK(serial.seen[502] == "done first.csv");
  CHECK(serial.seen.back() == "done second.csv");
  CHECK(serial.ahead_first);
  CHECK(serial.ahead_ids.size() == 1000);
  for (size_t batch : {size_t(1), size_t(3), size_t(64), size_t(4096)}) {
    Recorder threaded;
    ingest::read_ahead(reader(1000), threaded, true, batch);
    CHECK(threaded.seen == serial.seen);
    CHECK(threaded.ahead_first);
    CHECK(threaded.ahead_ids == serial.ahead_ids);
  }
}

TEST_CASE("read-ahead reports the first error a serial run meets", "[ingest][read_ahead]") {
  for (bool threaded : {false, true}) {
    INFO("threaded " << threaded);
    // The reading fails: everything before it was written first.
    Recorder a;
    CHECK_THROWS_WITH(ingest::read_ahead(reader(1000, 700), a, threaded, 16), "bad row after record 700");
    CHECK(a.seen.size() == 701 + 2);  // records 0..700, the billed line and the first input's end
    // The store fails on record 300, before the reading would: its error, and nothing after it.
    Recorder b;
    b.fail_at = 300;
    CHECK_THROWS_WITH(ingest::read_ahead(reader(1000, 700), b, threaded, 16), "store failed at record 300");
    CHECK(b.seen.size() == 300);
    // The store fails near the end, with no reading error.
    Recorder c;
    c.fail_at = 999 + 2;
    CHECK_THROWS_WITH(ingest::read_ahead(reader(1000), c, threaded, 7), "store failed at record 1001");
  }
}
