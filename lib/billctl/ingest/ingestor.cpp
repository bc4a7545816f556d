#include "billctl/ingest/ingestor.hpp"

#include "billctl/util/strings.hpp"

namespace billctl::ingest {

namespace {

// Costs are stored as 64-bit counts of micro units plus a remainder; keep one record far below that.
constexpr money::i128 k_max_record_cost = money::i128(1'000'000'000'000) * money::Decimal::k_one;

void csv_cell(std::string& out, std::string_view v) {
  const bool quote = v.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string unpriced_reason(pricing::PriceOutcome o, const usage::UsageRecord& r, const pricing::Catalog& c) {
  const std::string model(r.model);
  switch (o) {
    case pricing::PriceOutcome::unknown_model:
      return "unknown model '" + model + "': no price in catalog " + c.info().name +
             " (give its price with --prices FILE or 'billctl prices import FILE', or pass --allow-unpriced to keep it unpriced)";
    case pricing::PriceOutcome::not_in_force: {
      auto tl = c.timeline(r.model);
      return "no price for model '" + model + "' on " + util::format_date(util::day_of(r.timestamp)) +
             (tl.empty() ? std::string() : " (its first price is in force from " + util::format_date(tl.front()->effective_day) + ")");
    }
    case pricing::PriceOutcome::tier_unavailable:
      return "no " + std::string(usage::tier_name(r.tier)) + " price for model '" + model + "'";
    case pricing::PriceOutcome::ok: break;
  }
  return {};
}

Ingestor::Ingestor(const pricing::Catalog& catalog, const IngestOptions& options, RecordSink& sink)
    : m_catalog(catalog), m_options(options), m_sink(sink) {
  if (!options.rejects_path.empty()) {
    m_rejects = std::make_unique<util::AtomicFile>(options.rejects_path);
    m_rejects->write("source,line,reason,record\r\n");
  }
}

Ingestor::~Ingestor() = default;

const SourceStats& Ingestor::read(const std::string& path, const ProgressFn& progress) {
  m_sources.push_back(SourceStats{});
  m_sources.back().path = path;
  m_sources.back().read = read_source(path, m_options.format, m_options.defaults, *this, progress, m_options.read);
  return m_sources.back();
}

const SourceStats& Ingestor::read_range(const std::string& path, Format format, const ReadOptions& range,
                                        const ProgressFn& progress) {
  m_sources.push_back(SourceStats{});
  m_sources.back().path = path;
  m_sources.back().read = read_source(path, format, m_options.defaults, *this, progress, range);
  return m_sources.back();
}

const SourceStats& Ingestor::read_page(const std::string& name, Format format, const providers::Page& page) {
  m_sources.push_back(SourceStats{});
  SourceStats& s = m_sources.back();
  s.path = name;
  s.read.format = format;
  s.read.min_start = page.min_start;
  s.read.max_end = page.max_end;
  for (const providers::PulledRecord& pr : page.records) {
    ++s.read.rows;
    usage::UsageRecord r = pr.view();
    m_options.defaults.apply(r);
    on_record(r, Row{name, pr.line, {}});
  }
  for (const providers::BilledLine& b : page.billed) {
    ++s.read.rows;
    on_billed(b, Row{name, b.line, {}});
  }
  return s;
}

void Ingestor::finish() {
  if (m_rejects) {
    m_rejects->commit();
    m_rejects.reset();
  }
}

void Ingestor::on_record(usage::UsageRecord& r, const Row& row) {
  SourceStats& s = m_sources.back();
  usage::PricedRecord pr;
  pr.record = &r;
  if (r.has_cost) {
    pr.cost = r.cost;
    pr.source = usage::CostSource::provider;
  } else if (r.is_meter()) {
    pr.source = usage::CostSource::unpriced;  // metered usage is priced by plans, not the token catalog
  } else {
    const pricing::PriceEntry* used = nullptr;
    const pricing::PriceOutcome o = m_catalog.price(r, pr.cost, &used);
    if (o != pricing::PriceOutcome::ok) {
      if (!m_options.allow_unpriced) {
        on_reject(row, unpriced_reason(o, r, m_catalog));
        return;
      }
      pr.cost = {};
      pr.source = usage::CostSource::unpriced;
      ++s.unpriced;
    } else {
      pr.source = usage::CostSource::catalog;
      r.currency = used->currency;
      // One name per model in storage and reports: "claude-sonnet-4-5-20250929" and
      // "anthropic/claude-sonnet-4-5" are both stored as the catalog's "claude-sonnet-4-5".
      r.model = used->model;
      if (r.provider.empty()) r.provider = used->provider;
    }
  }
  if (pr.cost.units() > k_max_record_cost || pr.cost.units() < -k_max_record_cost) {
    on_reject(row, "cost of one record out of range: " + pr.cost.to_string());
    return;
  }
  m_sink.put(pr);
  ++s.accepted;
}

void Ingestor::on_billed(const providers::BilledLine& b, const Row&) {
  m_sink.put_billed(b);
  ++m_sources.back().billed;
}

void Ingestor::on_reject(const Row& row, const std::string& reason) {
  ++m_sources.back().rejected;
  if (m_options.on_error == OnError::fail)
    throw RowError(std::string(row.source), row.line, reason);
  if (m_rejects) {
    m_line.clear();
    csv_cell(m_line, row.source);
    m_line += ',';
    m_line += std::to_string(row.line);
    m_line += ',';
    csv_cell(m_line, reason);
    m_line += ',';
    std::string_view raw = row.raw.substr(0, 1 << 20);
    csv_cell(m_line, util::valid_utf8(raw) ? raw : std::string_view("<invalid UTF-8>"));
    m_line += "\r\n";
    m_rejects->write(m_line);
  }
}

uint64_t Ingestor::total_accepted() const {
  uint64_t n = 0;
  for (const auto& s : m_sources) n += s.accepted;
  return n;
}
uint64_t Ingestor::total_rejected() const {
  uint64_t n = 0;
  for (const auto& s : m_sources) n += s.rejected;
  return n;
}
uint64_t Ingestor::total_unpriced() const {
  uint64_t n = 0;
  for (const auto& s : m_sources) n += s.unpriced;
  return n;
}

}  // namespace billctl::ingest
