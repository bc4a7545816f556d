// `usage pull`: fetches a range of usage and billed cost from a provider's admin API (every
// endpoint, every page, retrying what the provider asks to retry), then stores it as one import:
// the range's earlier pull is replaced, never added to, and a run that cannot fetch everything
// stores nothing. Each pulled day is provisional while inside the settle window and settled after;
// a later pull that changes a settled day is reported.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "billctl/ingest/import_store.hpp"
#include "billctl/net/http.hpp"
#include "billctl/pricing/catalog.hpp"
#include "billctl/providers/pages.hpp"
#include "billctl/providers/pull_store.hpp"

namespace billctl::providers {

struct PullOptions {
  Provider provider = Provider::openai;
  std::string base_url;   // https://api.openai.com/v1, https://api.anthropic.com/v1
  std::string api_key;    // never printed, logged or stored
  std::string key_name;   // where the key came from, for messages: "OPENAI_ADMIN_KEY"
  util::Seconds begin = 0, end = 0;  // UTC day boundaries
  std::string bucket = "1d";         // 1d or 1h (cost endpoints are always 1d)
  int settle_days = 3;
  int max_attempts = 5;
  long timeout_ms = 60000;
  Mapping mapping;
  // Called after each page: pages, buckets and records so far.
  std::function<void(int pages, int buckets, size_t records)> progress;
};

// The provider's base URL when none is configured.
std::string default_base_url(Provider p);

// Every endpoint of the provider over [begin, end), all pages. Throws Error(auth) for 401/403
// naming options.key_name, DataError for other failures (after retries) with the provider's message.
Page fetch(const PullOptions& o, net::HttpClient& http, int& pages);

struct DayChange {
  util::Seconds day = 0;
  std::string state;   // provisional, settled
  std::string change;  // new, updated, unchanged, revised (a settled day changed)
  int64_t records = 0;
  int64_t billed_lines = 0;
  money::Decimal computed;  // billctl's price of the day's records
  money::Decimal billed;    // the provider's billed lines of the day
  money::Currency currency;
};

struct PullResult {
  util::Seconds begin = 0, end = 0;
  int pages = 0;
  uint64_t records = 0, billed_lines = 0, removed = 0, unpriced = 0;
  std::vector<std::string> unpriced_models;
  std::vector<DayChange> days;
  bool stored = false;
};

// Fetches and (unless dry_run) stores. `now` decides provisional days and the import time.
PullResult pull(const PullOptions& o, net::HttpClient& http, ingest::ImportStore& store, PullLog& log,
                const pricing::Catalog& catalog, util::Seconds now, bool dry_run);

}  // namespace billctl::providers
