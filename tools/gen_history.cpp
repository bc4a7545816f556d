// gen-history: deterministic multi-month spend histories for forecast backtests and anomaly tests.
//
//   gen-history [--months 13] [--end 2026-10] [--seed 1] [--base 400] [--growth 3]
//               [--no-spikes] [--no-shifts] [--no-zero-days] [--weekends 25] [--noise 20] [--per-day 48]
//               [--plant-loop DATE]... [--plant-launch DATE]... [--plant-errors DATE]...
//
// Writes CSV (id, timestamp, model, user, department, feature, input_tokens, output_tokens, cost,
// currency, requests, status) with --per-day records a day (default 48: one every 30 minutes), weighted to working hours. The daily
// total follows: base × (1 + growth % per month) × weekday factor (weekends at --weekends % of a
// weekday) × level shifts (a few permanent steps of ×0.7 .. ×1.5) × noise (±--noise %, log-normal),
// with single-day spikes (×3 .. ×6, about two a month) and zero days (about one a month: a
// holiday or an outage). Planted anomalies, for the anomaly tests: --plant-loop DATE, one user
// ("mallory", research) looping a premium model (claude-opus-4-1, feature "agent") from 01:00 to
// 05:00 for 3x the day's spend; --plant-launch DATE, a feature ("launch-x") adding 80 % of the
// daily spend from that day on (four users a day); --plant-errors DATE, an error storm: one
// service's gpt-4o requests failing (status error) between 09:00 and 12:00, 40 % of the day's
// requests at the default --per-day. Costs are provider-reported (the cost column), so prices do not matter.
// The same arguments give the same bytes on every machine (own PRNG, fixed-point amounts).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Rng {  // splitmix64
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double unit() { return double(next() >> 11) / double(1ull << 53); }  // [0, 1)
  double normal() {  // Box-Muller
    const double u = 1 - unit(), v = unit();
    return std::sqrt(-2 * std::log(u)) * std::cos(6.283185307179586 * v);
  }
};

int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = int(doy - (153 * mp + 2) / 5 + 1);
  m = int(mp < 10 ? mp + 3 : mp - 9);
  y = int(yoe + era * 400 + (m <= 2));
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: gen-history [--months N] [--end YYYY-MM] [--seed S] [--base USD] [--growth PCT]\n"
               "                   [--no-spikes] [--no-shifts] [--no-zero-days] [--weekends PCT] [--noise PCT] [--per-day N]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int months = 13, end_y = 2026, end_m = 10;
  uint64_t seed = 1;
  double base = 400, growth = 3, weekends = 25, noise = 20;
  bool spikes = true, shifts = true, zeros = true;
  int per_day = 48;
  std::vector<int64_t> loops, launches, storms;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--months") months = std::atoi(value().c_str());
    else if (a == "--end") {
      const std::string v = value();
      if (std::sscanf(v.c_str(), "%d-%d", &end_y, &end_m) != 2 || end_m < 1 || end_m > 12) usage();
    } else if (a == "--seed") seed = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--base") base = std::atof(value().c_str());
    else if (a == "--growth") growth = std::atof(value().c_str());
    else if (a == "--weekends") weekends = std::atof(value().c_str());
    else if (a == "--noise") noise = std::atof(value().c_str());
    else if (a == "--per-day") per_day = std::atoi(value().c_str());
    else if (a == "--plant-loop" || a == "--plant-launch" || a == "--plant-errors") {
      int y, m, d;
      const std::string v = value();
      if (std::sscanf(v.c_str(), "%d-%d-%d", &y, &m, &d) != 3) usage();
      (a == "--plant-loop" ? loops : a == "--plant-launch" ? launches : storms).push_back(days_from_civil(y, m, d));
    }
    else if (a == "--no-spikes") spikes = false;
    else if (a == "--no-shifts") shifts = false;
    else if (a == "--no-zero-days") zeros = false;
    else usage();
  }
  if (months < 1 || months > 120 || base <= 0 || per_day < 1 || per_day > 48) usage();
  int start_y = end_y, start_m = end_m - (months - 1);
  while (start_m < 1) {
    start_m += 12;
    --start_y;
  }
  const int64_t first = days_from_civil(start_y, start_m, 1);
  const int64_t last = end_m == 12 ? days_from_civil(end_y + 1, 1, 1) : days_from_civil(end_y, end_m + 1, 1);
  Rng rng{seed * 0x2545F4914F6CDD1Dull + 7};
  // Slot weights: working hours (08:00-18:00 UTC) carry most of the day.
  const int slot_min = 1440 / per_day;
  double slot_w[48], slot_sum = 0;
  for (int s = 0; s < per_day; ++s) {
    const int h = s * slot_min / 60;
    slot_sum += slot_w[s] = (h >= 8 && h < 18) ? 4.0 : (h >= 6 && h < 20) ? 1.5 : 0.4;
  }
  const char* departments[] = {"engineering", "research", "sales", "support"};
  const char* features[] = {"chat", "search", "summarize", "code-review"};
  const char* users[] = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"};
  std::printf("id,timestamp,model,user,department,feature,input_tokens,output_tokens,cost,currency,requests,status\n");
  auto has = [](const std::vector<int64_t>& v, int64_t d) { return std::find(v.begin(), v.end(), d) != v.end(); };
  int64_t launched = INT64_MAX;
  for (int64_t d : launches) launched = std::min(launched, d);
  double level = 1;
  uint64_t n = 0;
  for (int64_t day = first; day < last; ++day) {
    const int wd = int((day % 7 + 7 + 3) % 7);  // 0 = Monday (1970-01-01 was a Thursday)
    const double months_in = double(day - first) / 30.44;
    if (shifts && rng.unit() < 1.0 / 75) level *= 0.7 + 0.8 * rng.unit();  // a permanent step, about every 2.5 months
    double total = base * std::pow(1 + growth / 100, months_in) * level * (wd >= 5 ? weekends / 100 : 1.0);
    const double plain = total;  // before noise, spikes and zero days: the size of planted anomalies
    total *= std::exp(noise / 100 * rng.normal() - 0.5 * (noise / 100) * (noise / 100));
    if (spikes && rng.unit() < 2.0 / 30) total *= 3 + 3 * rng.unit();
    if (zeros && rng.unit() < 1.0 / 30) total = 0;
    if (total <= 0) continue;
    int y, m, d;
    civil_from_days(day, y, m, d);
    // Planted anomalies, on top of the day's ordinary spend.
    auto extra = [&](const char* model, const char* user, const char* dept, const char* feature, int h0, int h1, double amount,
                     int records, const char* status, int requests) {
      const int64_t cents = int64_t(std::llround(amount * 100));
      for (int i = 0; i < records; ++i) {
        const int64_t c = cents / records + (i < cents % records ? 1 : 0);
        const int minute = h0 * 60 + i * (h1 - h0) * 60 / records;
        std::printf("h%llu,%04d-%02d-%02dT%02d:%02d:00Z,%s,%s,%s,%s,%d,%d,%lld.%02lld,USD,%d,%s\n", (unsigned long long)++n, y, m, d,
                    minute / 60, minute % 60, model, user, dept, feature, 200000, 4000, (long long)(c / 100), (long long)(c % 100),
                    requests, status);
      }
    };
    if (has(loops, day)) extra("claude-opus-4-1", "mallory", "research", "agent", 1, 5, 3 * plain, 40, "ok", 1);
    if (day >= launched)
      for (int u = 0; u < 4; ++u) extra("gpt-4o", users[(day + u) % 8], "engineering", "launch-x", 8, 18, 0.2 * plain, 5, "ok", 1);
    if (has(storms, day)) extra("gpt-4o", "svc-batch", "operations", "batch", 9, 12, 0.01 * plain, std::max(20, per_day * 2 / 3), "error", 1);
    // Fixed-point cents per slot; the day's cents are exact.
    const int64_t cents = int64_t(std::llround(total * 100));
    int64_t left = cents;
    for (int s = 0; s < per_day; ++s) {
      const int64_t c = s == per_day - 1 ? left : int64_t(double(cents) * slot_w[s] / slot_sum);
      left -= c;
      if (c <= 0) continue;
      const uint64_t r = rng.next();
      std::printf("h%llu,%04d-%02d-%02dT%02d:%02d:%02dZ,gpt-4o-mini,%s,%s,%s,%llu,%llu,%lld.%02lld,USD,1,ok\n", (unsigned long long)++n, y, m, d,
                  s * slot_min / 60, s * slot_min % 60, int(r % 60), users[(r >> 8) % 8], departments[(r >> 16) % 4], features[(r >> 24) % 4],
                  (unsigned long long)(1000 + (r >> 32) % 5000), (unsigned long long)(100 + (r >> 44) % 900), (long long)(c / 100),
                  (long long)(c % 100));
    }
  }
  return 0;
}
