#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include "billctl/render/progress.hpp"
#include "billctl/util/strings.hpp"

using namespace billctl::render;

TEST_CASE("progress line: bar, percent, counts, amounts, rate and time left", "[progress]") {
  ProgressFigures f;
  f.label = "importing";
  f.done = 650'000'000;
  f.total = 1'300'000'000;
  f.bytes = true;
  f.items = 5'200'000;
  f.item_name = "records";
  f.per_second = 182'000;
  f.seconds_left = 31;
  CHECK(progress_line(f, 200) ==
        "importing \u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2591\u2591\u2591\u2591\u2591\u2591\u2591"
        "\u2591\u2591\u2591  50 %  5,200,000 records  650.0 MB of 1.3 GB  182,000 records/s  0:31 left");
  // Narrower terminals lose the bar's length, the rate, the amounts, then the bar; never wider.
  for (size_t w : {100, 80, 60, 40, 30, 20, 10}) CHECK(billctl::util::display_width(progress_line(f, w)) <= w);
  CHECK(progress_line(f, 60).find("0:31 left") != std::string::npos);
  // Unknown total (standard input): counts and rate only.
  f.total = 0;
  CHECK(progress_line(f, 200) == "importing  5,200,000 records  650.0 MB  182,000 records/s");
  // Counted units with a name: pages of a pull, records of a scan.
  ProgressFigures g;
  g.label = "pulling openai";
  g.done = 12;
  g.unit_name = "pages";
  g.items = 3400;
  g.item_name = "records";
  CHECK(progress_line(g, 200) == "pulling openai  3,400 records  12 pages");
  g.item_name.clear();
  g.label = "charging";
  g.unit_name = "records";
  g.done = 400;
  g.total = 1000;
  g.per_second = 100;
  g.seconds_left = 6;
  std::string bar;
  for (int i = 0; i < 20; ++i) bar += i < 8 ? "\u2588" : "\u2591";
  CHECK(progress_line(g, 200) == "charging " + bar + "  40 %  400 of 1,000 records  100 records/s  0:06 left");
}

TEST_CASE("duration and byte texts", "[progress]") {
  CHECK(duration_text(0) == "0:00");
  CHECK(duration_text(42.4) == "0:42");
  CHECK(duration_text(3909) == "1:05:09");
  CHECK(bytes_text(512) == "512 B");
  CHECK(bytes_text(1'300'000'000) == "1.3 GB");
}

TEST_CASE("progress: quiet for the first second, at most ten draws a second, erased completely", "[progress]") {
  std::ostringstream out;
  double now = 0;
  {
    Progress p(out, true, 120, "importing", [&] { return now; });
    p.set_units(true, "records");
    p.update(0, 1000, 0);
    now = 0.5;
    p.update(100, 1000, 10);
    CHECK(out.str().empty());  // a quick run draws nothing
    now = 2.0;
    p.update(400, 1000, 40);
    const std::string first = out.str();
    CHECK(first.rfind("\rimporting ", 0) == 0);
    CHECK(first.find("40 %") != std::string::npos);
    CHECK(first.find("0:03 left") != std::string::npos);  // 400 units in 2 s: 600 more take 3 s
    now = 2.05;
    p.update(410, 1000, 41);
    CHECK(out.str() == first);  // too soon to redraw
    p.clear();
    CHECK(out.str().substr(first.size()) == "\r\x1b[2K");
    p.clear();  // once
    CHECK(out.str().substr(first.size()) == "\r\x1b[2K");
  }
  // Not a terminal (or --quiet): nothing, ever.
  std::ostringstream none;
  Progress q(none, false, 120, "importing", [&] { return now; });
  now = 100;
  q.update(1, 2, 3);
  q.step("writing");
  CHECK(none.str().empty());
}

TEST_CASE("progress: the time left follows the recent rate when the work slows down", "[progress]") {
  std::ostringstream out;
  double now = 0;
  Progress p(out, true, 200, "importing", [&] { return now; });
  p.set_units(true, "");
  // 100 units/s for 20 s, then 25 units/s: the estimate after 10 s at the slower rate is the slow one.
  uint64_t done = 0;
  for (int i = 0; i < 200; ++i, now += 0.1) p.update(done += 10, 10000, 0);
  for (int i = 0; i < 100; ++i, now += 0.1) p.update(done += 2, 10000, 0);
  p.update(done, 10000, 0);
  const std::string s = out.str();
  const std::string last = s.substr(s.rfind('\r'));
  // 2200 done, 7800 left at ~20/s (the last 10 s): about 6:30, not the 2:30 the whole-run average says.
  CHECK(last.find("6:3") != std::string::npos);
}

TEST_CASE("progress: a step that blocks still appears once it takes a second, with its time", "[progress]") {
  std::ostringstream out;
  std::atomic<double> now{0};
  {
    Progress p(out, true, 120, "report", [&] { return now.load(); });
    p.step("drawing the PDF");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    CHECK(out.str().empty());  // not before a second
    now = 3.0;                 // the step runs on; the helper redraws it
    for (int i = 0; i < 50 && out.str().find("drawing the PDF  0:03") == std::string::npos; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(out.str().find("\rdrawing the PDF  0:03") != std::string::npos);
    p.clear();
    const std::string s = out.str();
    CHECK(s.substr(s.size() - 5) == "\r\x1b[2K");
  }
}
