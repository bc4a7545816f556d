// A progress line on a terminal (stderr) for work that takes a while: a bar, the count, how much
// of how much, the rate and the time left, redrawn in place at most ten times a second. Nothing is
// drawn until the work has taken a second (a quick run stays quiet), and clear() erases the line
// completely, so the summary that follows starts on a clean line. The time left comes from the
// slower of the rate over the last ten seconds (work that slows down, a B-tree that grows) and
// over the whole run (work with pauses), so it errs on the side of later.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <condition_variable>
#include <iosfwd>
#include <mutex>
#include <string>
#include <thread>

namespace billctl::render {

// What the line shows at one moment.
struct ProgressFigures {
  std::string label;           // "importing", "pulling openai"
  uint64_t done = 0;           // units done (bytes, pages, records)
  uint64_t total = 0;          // of this many; 0: unknown (no bar, no time left)
  bool bytes = false;          // units are bytes (shown as 1.2 GB)
  std::string unit_name;       // else their name: "pages", "records"
  uint64_t items = 0;          // things counted on the way (records), when the units are not them
  std::string item_name;       // "records"; empty: no item count
  double per_second = 0;       // items (or units, without items) per second
  double seconds_left = -1;    // < 0: unknown
};

// The line for these figures, at most `width` columns (the least useful parts dropped first).
std::string progress_line(const ProgressFigures& f, size_t width);
// "0:42", "1:05:09".
std::string duration_text(double seconds);
// "1.3 GB", "690.1 MB", "512 B".
std::string bytes_text(uint64_t bytes);

class Progress {
 public:
  using Clock = std::function<double()>;  // monotonic seconds
  // Draws on `out` only when `enabled` (a terminal, not --quiet).
  Progress(std::ostream& out, bool enabled, size_t width, std::string label, Clock clock = {});
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` of `total` units (total 0: unknown); `items` counted so far.
  void update(uint64_t done, uint64_t total, uint64_t items = 0);
  // Units are bytes, or named `unit_name`; `item_name` names the items counted besides (or "").
  void set_units(bool bytes, std::string item_name, std::string unit_name = "");
  // A step that has no measure ("writing the store: building index 2 of 4"), shown instead of
  // the bar with the time since the start, which a helper thread keeps counting while the step
  // runs (a step blocks the caller; the line still appears once the work takes a second).
  void step(const std::string& text);
  // Erases the line (nothing is left on the terminal).
  void clear();
  bool drawn() const { return m_drawn; }

 private:
  void draw(const std::string& line);  // with m_mutex held
  void tick();                          // the helper thread
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::thread m_ticker;
  bool m_stop = false;
  std::string m_step;  // the step being shown; empty in bar mode
  std::ostream& m_out;
  bool m_enabled;
  size_t m_width;
  std::string m_label;
  Clock m_clock;
  double m_t0;
  double m_last_draw = -1;
  bool m_drawn = false;
  bool m_bytes = false;
  std::string m_item_name, m_unit_name;
  struct Sample {
    double t;
    uint64_t done, items;
  };
  std::deque<Sample> m_samples;  // the last ten seconds
  Sample m_first{};              // the first update
};

}  // namespace billctl::render
