// gen-usage: deterministic synthetic usage for demos, tests and benchmarks.
//
//   gen-usage --records N [--month 2026-10] [--seed 1] [--format csv|jsonl] [--no-ids] [--shape plain|real|messy]
//
// --shape real writes what exports of real gateways look like: ids "evt_<16 hex>", millisecond
// timestamps, a currency column on every row and a provider cost on one row in ten, the columns in
// another order, ~1,000 users in 8 departments, 20 features and 40 projects.
// --shape messy is real with what hand-made and spreadsheet exports add: CRLF line ends, timestamps
// in whole seconds, department names in other scripts and with commas ("営業", "sales, EMEA"), and
// one project in 20 with a comma, so those fields are quoted.
//
// The same arguments give the same bytes on every machine (own PRNG, integer arithmetic only).
// The shape is meant to look like a real organisation: a few heavy users (Zipf), a weekday and
// working-hours rhythm, ~2 % failed requests, several organisations, departments, features,
// projects and a dozen models, a little batch traffic and a few long-context requests.
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
  uint64_t below(uint64_t n) { return next() % n; }
};

// Picks an index with integer weights through a cumulative table.
struct Weighted {
  std::vector<uint64_t> cum;
  explicit Weighted(const std::vector<uint64_t>& w) {
    uint64_t t = 0;
    for (uint64_t x : w) cum.push_back(t += x);
  }
  size_t pick(Rng& r) const {
    const uint64_t x = r.below(cum.back());
    size_t lo = 0, hi = cum.size() - 1;
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
};

struct Model {
  const char* provider;
  const char* name;
  uint64_t weight;
  uint64_t input_scale;   // typical uncached input tokens
  uint64_t output_scale;  // typical output tokens
  bool anthropic_cache;   // reports cache writes
  uint64_t long_context;  // per-mille of requests above 200K input (models with such tiers)
};

const Model k_models[] = {
    {"openai", "gpt-4o", 160, 2500, 450, false, 0},
    {"openai", "gpt-4o-mini", 260, 1800, 300, false, 0},
    {"openai", "gpt-4.1", 90, 6000, 700, false, 0},
    {"openai", "gpt-4.1-mini", 120, 3000, 400, false, 0},
    {"openai", "gpt-5", 70, 4000, 1500, false, 0},
    {"openai", "gpt-5-mini", 110, 2500, 900, false, 0},
    {"openai", "o4-mini", 40, 3000, 2500, false, 0},
    {"anthropic", "claude-sonnet-4-5", 120, 5000, 800, true, 6},
    {"anthropic", "claude-haiku-4-5", 90, 2000, 350, true, 0},
    {"anthropic", "claude-opus-4-1", 15, 6000, 900, true, 0},
    {"google", "gemini-2.5-pro", 45, 7000, 1000, false, 8},
    {"google", "gemini-2.5-flash", 140, 2500, 500, false, 0},
};

const char* k_orgs[] = {"acme", "globex", "initech", "umbrella"};
const char* k_departments[] = {"engineering", "support", "sales", "marketing", "research", "finance", "legal"};
const char* k_features[] = {"chat", "code-review", "search", "summarize", "agent", "translate", "extract", "classify"};
const char* k_projects[] = {"atlas",  "beacon", "comet",  "delta", "ember",  "falcon",
                            "garnet", "harbor", "indigo", "jade",  "kestrel", "lumen"};
const char* k_departments_real[] = {"engineering", "support", "sales", "marketing", "research", "finance", "legal", "operations"};
const char* k_departments_messy[] = {"engineering", "support", "sales, EMEA", "marketing", "Forschung & Entwicklung",
                                     "\xe5\x96\xb6\xe6\xa5\xad" /* 営業 */, "l\xc3\xa9gal", "operations"};
const char* k_first[] = {"alice", "bob",   "carol", "dave",  "erin", "frank", "grace", "heidi", "ivan",  "judy",
                         "ken",   "laura", "mike",  "nina",  "oscar", "peggy", "quinn", "rupert", "sybil", "trent",
                         "ursula", "victor", "wendy", "xavier", "yara",  "zoe"};

// Roughly log-normal: scale * 2^(u) with u in [-3, 3] from a sum of uniforms.
uint64_t skewed(Rng& r, uint64_t scale) {
  int64_t u = 0;
  for (int i = 0; i < 4; ++i) u += int64_t(r.below(1000));
  // u in [0, 4000), mean 2000: exponent in eighths of a doubling, -16..+16
  const int64_t e8 = (u - 2000) * 16 / 2000;
  uint64_t v = scale;
  if (e8 >= 0) {
    v <<= (e8 / 8);
    v = v * (8 + uint64_t(e8 % 8)) / 8;
  } else {
    v >>= ((-e8) / 8);
    v = v * 8 / (8 + uint64_t((-e8) % 8));
  }
  v = v * (750 + r.below(500)) / 1000;  // fine-grained spread
  return v + 1;
}

int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

void usage() {
  std::fprintf(stderr, "usage: gen-usage --records N [--month YYYY-MM] [--seed S] [--format csv|jsonl] [--no-ids] [--shape plain|real|messy]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t records = 0, seed = 1;
  std::string month = "2026-10", format = "csv";
  bool ids = true;
  std::string shape = "plain";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--records") records = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--seed") seed = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--month") month = val();
    else if (a == "--format") format = val();
    else if (a == "--no-ids") ids = false;
    else if (a == "--shape") shape = val();
    else usage();
  }
  if (records == 0 || month.size() != 7 || (format != "csv" && format != "jsonl") || (shape != "plain" && shape != "real" && shape != "messy")) usage();
  const bool messy = shape == "messy";
  const bool real = shape == "real" || messy;
  const char* eol = messy ? "\r\n" : "\n";
  const int year = std::atoi(month.substr(0, 4).c_str());
  const unsigned mon = unsigned(std::atoi(month.substr(5, 2).c_str()));
  if (mon < 1 || mon > 12) usage();
  const int64_t first = days_from_civil(year, mon, 1);
  const int64_t next = mon == 12 ? days_from_civil(year + 1, 1, 1) : days_from_civil(year, mon + 1, 1);
  const int ndays = int(next - first);

  Rng rng{seed * 0x2545F4914F6CDD1Dull + 7};
  // Users: 240 across organisations and departments; Zipf-like activity (a few heavy users).
  const int k_users = real ? 1000 : 240;
  std::vector<std::string> user_name(k_users);
  std::vector<int> user_org(k_users), user_dept(k_users);
  std::vector<uint64_t> user_w(k_users);
  for (int u = 0; u < k_users; ++u) {
    user_name[u] = std::string(k_first[u % 26]) + "." + std::to_string(u / 26 + 1);
    user_org[u] = int(rng.below(100) < 55 ? 0 : 1 + rng.below(3));
    user_dept[u] = int(rng.below(real ? 8 : 7));
    user_w[u] = 1'000'000 / uint64_t(u + 1) + 2000;
  }
  Weighted users(user_w);
  std::vector<uint64_t> mw;
  for (const auto& m : k_models) mw.push_back(m.weight);
  Weighted models(mw);
  std::vector<uint64_t> dw;
  for (int d = 0; d < ndays; ++d) {
    const int wd = int(((first + d) % 7 + 7 + 3) % 7);  // 0 = Monday
    dw.push_back(wd >= 5 ? 30 : 100 + uint64_t(d) * 2);  // weekends quieter; slow growth through the month
  }
  Weighted days(dw);
  const uint64_t hour_w[24] = {8, 6, 5, 5, 6, 10, 20, 45, 80, 100, 110, 105, 90, 100, 110, 105, 95, 80, 55, 40, 30, 22, 15, 10};
  Weighted hours(std::vector<uint64_t>(hour_w, hour_w + 24));
  Weighted features(std::vector<uint64_t>{300, 160, 140, 120, 90, 60, 50, 40});

  std::vector<char> out;
  out.reserve(1 << 22);
  auto flush = [&] {
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  };
  auto put = [&](const char* s) { out.insert(out.end(), s, s + std::strlen(s)); };
  auto put_s = [&](const std::string& s) { out.insert(out.end(), s.begin(), s.end()); };
  // A CSV field, quoted when it holds a comma or a quote.
  auto put_field = [&](const std::string& v) {
    if (v.find_first_of(",\"") == std::string::npos) return put_s(v);
    put("\"");
    for (char c : v) {
      if (c == '"') put("\"");
      out.push_back(c);
    }
    put("\"");
  };
  auto put_u = [&](uint64_t v) {
    char b[24];
    int n = std::snprintf(b, sizeof b, "%llu", static_cast<unsigned long long>(v));
    out.insert(out.end(), b, b + n);
  };

  if (real && format == "csv")
    put(ids ? "timestamp,id,user,department,organization,model,provider,feature,project,input_tokens,output_tokens,"
              "cached_input_tokens,cache_write_tokens,cache_write_1h_tokens,requests,status,service_tier,currency,cost\n"
            : "timestamp,user,department,organization,model,provider,feature,project,input_tokens,output_tokens,"
              "cached_input_tokens,cache_write_tokens,cache_write_1h_tokens,requests,status,service_tier,currency,cost\n");
  else if (format == "csv")
    put(ids ? "id,timestamp,provider,model,organization,department,user,feature,project,input_tokens,cached_input_tokens,"
              "cache_write_tokens,cache_write_1h_tokens,output_tokens,requests,service_tier,status\n"
            : "timestamp,provider,model,organization,department,user,feature,project,input_tokens,cached_input_tokens,"
              "cache_write_tokens,cache_write_1h_tokens,output_tokens,requests,service_tier,status\n");
  if (messy && format == "csv") out.insert(out.end() - 1, '\r');  // the header's line end too

  for (uint64_t i = 0; i < records; ++i) {
    const int u = int(users.pick(rng));
    const Model& m = k_models[models.pick(rng)];
    const int64_t day = first + int64_t(days.pick(rng));
    const int64_t ts = day * 86400 + int64_t(hours.pick(rng)) * 3600 + int64_t(rng.below(3600));
    const char* feature = k_features[features.pick(rng)];
    const char* project = k_projects[(u * 7 + int(rng.below(3))) % 12];
    std::string real_feature, real_project;
    if (real) {  // 20 features and 40 projects: the plain ones with a variant suffix
      const uint64_t f = rng.below(20), pj = (uint64_t(u) * 7 + rng.below(3)) % 40;
      real_feature = k_features[f % 8];
      if (f >= 8) real_feature.append("-").append(std::to_string(f / 8 + 1));
      real_project = k_projects[pj % 12];
      if (pj >= 12) real_project.append("-").append(std::to_string(pj / 12 + 1));
      if (messy && pj % 20 == 7) real_project.append(", phase 2");
    }
    uint64_t input = skewed(rng, m.input_scale);
    uint64_t output = skewed(rng, m.output_scale);
    uint64_t cached = 0, cw5 = 0, cw1h = 0;
    if (rng.below(100) < 35) cached = input * (2 + rng.below(6));  // cache hits are big reads
    if (m.anthropic_cache && rng.below(100) < 20) {
      cw5 = input / 2 + rng.below(2000);
      if (rng.below(100) < 10) cw1h = input / 4;
    }
    if (m.long_context && rng.below(1000) < m.long_context) input = 200'001 + rng.below(300'000);
    const bool error = rng.below(1000) < 21;
    if (error) output = 0;
    const bool batch = rng.below(100) < 5;

    char tsbuf[32];
    {
      int64_t z = ts / 86400 + 719468;
      const int64_t era = z / 146097;
      const unsigned doe = unsigned(z - era * 146097);
      const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
      const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
      const unsigned mp = (5 * doy + 2) / 153;
      const unsigned dd = doy - (153 * mp + 2) / 5 + 1;
      const unsigned mm = mp < 10 ? mp + 3 : mp - 9;
      const int yy = int(int64_t(yoe) + era * 400 + (mm <= 2));
      const int64_t sod = ts % 86400;
      std::snprintf(tsbuf, sizeof tsbuf, "%04d-%02u-%02uT%02d:%02d:%02dZ", yy, mm, dd, int(sod / 3600), int(sod / 60 % 60),
                    int(sod % 60));
    }
    const std::string& user = user_name[u];
    if (real) {
      const uint64_t h = Rng{seed * 0x9E3779B97F4A7C15ull ^ i}.next();
      char id[24], ms[8], cost[32] = "";
      std::snprintf(id, sizeof id, "evt_%016llx", static_cast<unsigned long long>(h));
      std::snprintf(ms, sizeof ms, ".%03dZ", int(h % 1000));
      if (h % 10 == 0)  // a provider-reported cost on one row in ten
        std::snprintf(cost, sizeof cost, "%llu.%06llu", static_cast<unsigned long long>((input + output) / 400000),
                      static_cast<unsigned long long>((input * 3 + output * 11) % 1000000));
      std::string t(tsbuf);
      if (!messy) {
        t.pop_back();  // the 'Z'
        t += ms;
      }
      const std::string dept = messy ? k_departments_messy[user_dept[u]] : k_departments_real[user_dept[u]];
      if (format == "csv") {
        put_s(t); put(",");
        if (ids) { put(id); put(","); }
        put_s(user); put(","); put_field(dept); put(","); put(k_orgs[user_org[u]]); put(","); put(m.name); put(",");
        put(m.provider); put(","); put_field(real_feature); put(","); put_field(real_project); put(",");
        put_u(input); put(","); put_u(output); put(","); put_u(cached); put(","); put_u(cw5); put(","); put_u(cw1h);
        put(",1,"); put(error ? "error" : "ok"); put(","); put(batch ? "batch" : "standard"); put(",USD,"); put(cost); put(eol);
      } else {
        put("{\"timestamp\":\""); put_s(t); put("\",");
        if (ids) { put("\"id\":\""); put(id); put("\","); }
        put("\"user\":\""); put_s(user); put("\",\"department\":\""); put_s(dept);
        put("\",\"organization\":\""); put(k_orgs[user_org[u]]); put("\",\"model\":\""); put(m.name);
        put("\",\"provider\":\""); put(m.provider); put("\",\"feature\":\""); put_s(real_feature);
        put("\",\"project\":\""); put_s(real_project); put("\",\"input_tokens\":"); put_u(input);
        put(",\"output_tokens\":"); put_u(output); put(",\"cached_input_tokens\":"); put_u(cached);
        put(",\"cache_write_tokens\":"); put_u(cw5); put(",\"cache_write_1h_tokens\":"); put_u(cw1h);
        put(",\"requests\":1,\"status\":\""); put(error ? "error" : "ok"); put("\",\"service_tier\":\"");
        put(batch ? "batch" : "standard"); put("\",\"currency\":\"USD\"");
        if (*cost) { put(",\"cost\":"); put(cost); }
        put("}"); put(eol);
      }
    } else if (format == "csv") {
      if (ids) {
        put("gen-");
        put_u(seed);
        put("-");
        put_u(i);
        put(",");
      }
      put(tsbuf); put(","); put(m.provider); put(","); put(m.name); put(",");
      put(k_orgs[user_org[u]]); put(","); put(k_departments[user_dept[u]]); put(","); put_s(user); put(",");
      put(feature); put(","); put(project); put(",");
      put_u(input); put(","); put_u(cached); put(","); put_u(cw5); put(","); put_u(cw1h); put(","); put_u(output);
      put(",1,"); put(batch ? "batch" : "standard"); put(","); put(error ? "error" : "ok"); put("\n");
    } else {
      put("{");
      if (ids) {
        put("\"id\":\"gen-"); put_u(seed); put("-"); put_u(i); put("\",");
      }
      put("\"timestamp\":\""); put(tsbuf); put("\",\"provider\":\""); put(m.provider);
      put("\",\"model\":\""); put(m.name); put("\",\"organization\":\""); put(k_orgs[user_org[u]]);
      put("\",\"department\":\""); put(k_departments[user_dept[u]]); put("\",\"user\":\""); put_s(user);
      put("\",\"feature\":\""); put(feature); put("\",\"project\":\""); put(project);
      put("\",\"input_tokens\":"); put_u(input); put(",\"cached_input_tokens\":"); put_u(cached);
      put(",\"cache_write_tokens\":"); put_u(cw5); put(",\"cache_write_1h_tokens\":"); put_u(cw1h);
      put(",\"output_tokens\":"); put_u(output); put(",\"requests\":1,\"service_tier\":\"");
      put(batch ? "batch" : "standard"); put("\",\"status\":\""); put(error ? "error" : "ok"); put("\"}\n");
    }
    if (out.size() > (1 << 22) - 4096) flush();
  }
  flush();
  return 0;
}
