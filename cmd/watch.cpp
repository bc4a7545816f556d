// billctl usage watch: the live view, redrawn in place every --interval seconds until q or
// Ctrl-C; one snapshot when stdout is not a terminal or with --once.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <ctime>

#include "billctl/report/live.hpp"
#include "billctl/util/io.hpp"
#include "billctl/util/strings.hpp"
#include "commands.hpp"

namespace billctl::cmd {

namespace {

volatile std::sig_atomic_t g_quit = 0;
volatile std::sig_atomic_t g_resized = 0;

extern "C" void on_quit(int) { g_quit = 1; }
extern "C" void on_resize(int) { g_resized = 1; }

struct WatchFlags {
  int64_t interval = 5;
  bool once = false;
};

void write_out(std::string_view s) { util::write_all(1, s); }

// The terminal as the view needs it: the alternate screen, no cursor, keys read one at a time
// without echo; everything restored on the way out, however it goes.
class Screen {
 public:
  Screen() {
    if (::tcgetattr(0, &m_saved) == 0) {
      termios t = m_saved;
      t.c_lflag &= tcflag_t(~(ICANON | ECHO));
      t.c_cc[VMIN] = 0;
      t.c_cc[VTIME] = 0;
      m_raw = ::tcsetattr(0, TCSANOW, &t) == 0;
    }
    struct sigaction sa{};
    sa.sa_handler = on_quit;  // no SA_RESTART: poll() returns at once
    ::sigaction(SIGINT, &sa, &m_int);
    ::sigaction(SIGTERM, &sa, &m_term);
    ::sigaction(SIGHUP, &sa, &m_hup);
    sa.sa_handler = on_resize;
    ::sigaction(SIGWINCH, &sa, &m_winch);
    write_out("\x1b[?1049h\x1b[?25l");
  }
  ~Screen() {
    write_out("\x1b[?25h\x1b[?1049l");
    if (m_raw) ::tcsetattr(0, TCSANOW, &m_saved);
    ::sigaction(SIGINT, &m_int, nullptr);
    ::sigaction(SIGTERM, &m_term, nullptr);
    ::sigaction(SIGHUP, &m_hup, nullptr);
    ::sigaction(SIGWINCH, &m_winch, nullptr);
  }
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

  // Columns and rows of the terminal now (it may have been resized).
  static std::pair<int, int> size(Env& env) {
    winsize ws{};
    if (::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) return {ws.ws_col, ws.ws_row};
    int64_t c = 0;
    return {util::parse_u63(env.env("COLUMNS"), c) && c > 0 ? int(c) : 80, 24};
  }

 private:
  termios m_saved{};
  bool m_raw = false;
  struct sigaction m_int{}, m_term{}, m_hup{}, m_winch{};
};

// Waits up to `seconds` for q (or Q, or Ctrl-C when the terminal sends it as a byte), a signal or
// a resize. True when it is time to quit.
bool wait_for_key(int64_t seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  const bool keyboard = ::isatty(0) != 0;  // stdin from elsewhere: only signals end the view
  while (!g_quit && !g_resized) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{0, POLLIN, 0};
    const int n = ::poll(&p, keyboard ? 1 : 0, int(left));
    if (n < 0 && errno != EINTR) return false;
    if (n > 0 && (p.revents & (POLLHUP | POLLERR))) return true;  // no keyboard any more
    if (n > 0 && (p.revents & POLLIN)) {
      char buf[64];
      const ssize_t r = ::read(0, buf, sizeof buf);
      if (r == 0) return true;
      for (ssize_t i = 0; i < r; ++i)
        if (buf[i] == 'q' || buf[i] == 'Q' || buf[i] == 3) return true;
    }
  }
  return g_quit != 0;
}

void run_watch(const WatchFlags& f, Env& env) {
  auto now = [&env] { return env.now_pinned() ? env.now() : util::Seconds(std::time(nullptr)); };
  const render::TextStyle ts = env.style();
  report::LiveStyle style;
  style.unicode = ts.bars;
  style.color = ts.color;
  if (!env.out_tty || f.once) {
    int64_t c = 0;
    style.width = util::parse_u63(env.env("COLUMNS"), c) && c > 0 ? int(c) : 80;
    const auto lines = report::render_live(report::build_live(env.usage(), env.budgets().list_budgets(), now()), style);
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    env.emit(out, "");
    return;
  }
  g_quit = 0;
  g_resized = 0;
  Screen screen;
  style.footer = "every " + std::to_string(f.interval) + " s; q quits";
  for (;;) {
    g_resized = 0;
    const auto [cols, rows] = Screen::size(env);
    style.width = cols;
    auto lines = report::render_live(report::build_live(env.usage(), env.budgets().list_budgets(), now()), style);
    if (lines.size() > size_t(rows)) lines.resize(size_t(rows));  // never scroll: the top stays in place
    // Over the previous frame, each line cleared to its end and the rest below: no flicker.
    std::string frame = "\x1b[H";
    for (size_t i = 0; i < lines.size(); ++i) frame += lines[i] + "\x1b[K" + (i + 1 < lines.size() ? "\r\n" : "");
    frame += "\x1b[J";
    write_out(frame);
    if (wait_for_key(f.interval)) break;
  }
}

}  // namespace

void add_usage_watch(CLI::App* usage, CommandTable& table) {
  auto f = std::make_shared<WatchFlags>();
  CLI::App* c = usage->add_subcommand("watch", "A live view: today, the last hour, month to date, forecast, budgets, anomalies");
  c->add_option("--interval", f->interval, "Seconds between refreshes (default 5)")->type_name("SECONDS")->check(whole_number(1, 3600));
  c->add_flag("--once", f->once, "Print one snapshot and exit (what a pipe or a script gets anyway)");
  table.push_back({c, [f](Env& env) { run_watch(*f, env); }});
}

}  // namespace billctl::cmd
