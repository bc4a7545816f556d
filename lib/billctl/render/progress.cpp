#include "billctl/render/progress.hpp"

#include <chrono>
#include <cmath>
#include <ostream>
#include <vector>

#include "billctl/util/strings.hpp"

namespace billctl::render {

namespace {

constexpr double k_quiet_seconds = 1.0;  // nothing is drawn before this
constexpr double k_redraw_seconds = 0.1;
constexpr double k_window_seconds = 10.0;

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string count_text(double v) { return util::group_thousands(int64_t(v + 0.5)); }

}  // namespace

std::string duration_text(double s) {
  int64_t t = int64_t(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(t / 3600), (long long)(t / 60 % 60), (long long)(t % 60));
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(t / 60), (long long)(t % 60));
  return buf;
}

std::string bytes_text(uint64_t b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  uint64_t whole = b, tenths = 0;
  while (whole >= 1000 && u < 4) {
    tenths = (whole % 1000) / 100;
    whole /= 1000;
    ++u;
  }
  std::string out = std::to_string(whole);
  if (u) out.append(".").append(std::to_string(tenths));
  return out.append(" ").append(units[u]);
}

std::string progress_line(const ProgressFigures& f, size_t width) {
  // Parts in the order shown; when the line is too wide they go in the order of `drop`.
  const bool known = f.total > 0;
  const int64_t permille = known ? int64_t(std::min<uint64_t>(f.done, f.total) * 1000 / f.total) : 0;
  std::string percent;
  if (known) percent.append(std::to_string(permille / 10)).append(" %");
  auto amount = [&](uint64_t v) { return f.bytes ? bytes_text(v) : count_text(double(v)); };
  std::string items;
  if (!f.item_name.empty()) items.append(count_text(double(f.items))).append(" ").append(f.item_name);
  // "650.0 MB of 1.3 GB", "12 of 40 pages", "12 pages".
  std::string of = amount(f.done);
  if (known) of.append(" of ").append(amount(f.total));
  if (!f.bytes && !f.unit_name.empty()) of.append(" ").append(f.unit_name);
  else if (!f.bytes && !known) of.clear();
  std::string rate;
  if (f.per_second > 0) {
    if (f.item_name.empty() && f.bytes) {
      rate = bytes_text(uint64_t(f.per_second));
    } else {
      rate = count_text(f.per_second);
      const std::string& name = f.item_name.empty() ? f.unit_name : f.item_name;
      if (!name.empty()) rate.append(" ").append(name);
    }
    rate.append("/s");
  }
  std::string left;
  if (known && f.seconds_left >= 0) left.append(duration_text(f.seconds_left)).append(" left");
  size_t bar_cells = known ? 20 : 0;
  auto build = [&] {
    std::string s = f.label;
    if (bar_cells) {
      const size_t full = size_t(permille) * bar_cells / 1000;
      s += " ";
      for (size_t i = 0; i < bar_cells; ++i) s += i < full ? "\u2588" : "\u2591";
    }
    for (const std::string* part : {&percent, &items, &of, &rate, &left})
      if (!part->empty()) s.append("  ").append(*part);
    return s;
  };
  std::string s = build();
  // Too wide: a shorter bar, then without the rate, the amounts, the bar; the label is cut last.
  std::vector<std::function<void()>> drop = {[&] { bar_cells = 10; }, [&] { rate.clear(); }, [&] { of.clear(); },
                                             [&] { bar_cells = 0; },  [&] { items.clear(); }};
  for (size_t i = 0; util::display_width(s) > width && i < drop.size(); ++i) {
    drop[i]();
    s = build();
  }
  if (util::display_width(s) > width) s = util::shorten_end(s, width);
  return s;
}

Progress::Progress(std::ostream& out, bool enabled, size_t width, std::string label, Clock clock)
    : m_out(out),
      m_enabled(enabled),
      m_width(width > 1 ? width - 1 : 79),  // never the last column: some terminals wrap there
      m_label(std::move(label)),
      m_clock(clock ? std::move(clock) : Clock(steady_seconds)),
      m_t0(m_clock()) {}

Progress::~Progress() { clear(); }

void Progress::tick() {
  std::unique_lock<std::mutex> lock(m_mutex);
  while (!m_stop) {
    m_wake.wait_for(lock, std::chrono::milliseconds(100));
    if (m_stop || m_step.empty()) continue;
    const double now = m_clock();
    if (now - m_t0 < k_quiet_seconds) continue;
    std::string line = m_step;
    line.append("  ").append(duration_text(now - m_t0));
    draw(util::shorten_end(line, m_width));
  }
}

void Progress::set_units(bool bytes, std::string item_name, std::string unit_name) {
  m_bytes = bytes;
  m_item_name = std::move(item_name);
  m_unit_name = std::move(unit_name);
}

void Progress::update(uint64_t done, uint64_t total, uint64_t items) {
  if (!m_enabled) return;
  std::lock_guard<std::mutex> lock(m_mutex);
  m_step.clear();
  const double now = m_clock();
  if (now - m_t0 < k_quiet_seconds || (m_last_draw >= 0 && now - m_last_draw < k_redraw_seconds)) {
    if (m_samples.empty()) m_samples.push_back(m_first = {now, done, items});
    return;
  }
  if (m_samples.empty()) m_first = {now, done, items};
  m_samples.push_back({now, done, items});
  while (m_samples.size() > 2 && now - m_samples[1].t >= k_window_seconds) m_samples.pop_front();
  const Sample& first = m_samples.front();
  const double span = now - first.t;
  ProgressFigures f;
  f.label = m_label;
  f.done = done;
  f.total = total;
  f.bytes = m_bytes;
  f.items = items;
  f.item_name = m_item_name;
  f.unit_name = m_unit_name;
  if (span > 0.5) {
    const double units_rate = double(done - std::min(done, first.done)) / span;
    f.per_second = m_item_name.empty() ? units_rate : double(items - std::min(items, first.items)) / span;
    // The slower of the recent rate and the whole run's: work that slows down is judged by the
    // recent one, work with pauses (a store writing its rollups now and then) by the whole run.
    const double whole = now - m_first.t > 0.5 ? double(done - std::min(done, m_first.done)) / (now - m_first.t) : units_rate;
    const double rate = std::min(units_rate, whole);
    if (total > done && rate > 0) f.seconds_left = double(total - done) / rate;
    else if (total && done >= total) f.seconds_left = 0;
  }
  draw(progress_line(f, m_width));
  m_last_draw = now;
}

void Progress::step(const std::string& text) {
  if (!m_enabled) return;
  std::lock_guard<std::mutex> lock(m_mutex);
  m_step = text.empty() ? " " : text;
  const double now = m_clock();
  if (now - m_t0 >= k_quiet_seconds) {
    std::string line = m_step;
    line.append("  ").append(duration_text(now - m_t0));
    draw(util::shorten_end(line, m_width));
    m_last_draw = now;
  }
  if (!m_ticker.joinable()) m_ticker = std::thread([this] { tick(); });
}

void Progress::draw(const std::string& line) {
  m_out << "\r" << line << "\x1b[K" << std::flush;
  m_drawn = true;
}

void Progress::clear() {
  if (m_ticker.joinable()) {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_stop = true;
    }
    m_wake.notify_all();
    m_ticker.join();
    m_stop = false;
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  m_step.clear();
  if (!m_drawn) return;
  m_out << "\r\x1b[2K" << std::flush;
  m_drawn = false;
}

}  // namespace billctl::render
