#include "billctl/store/store.hpp"

namespace billctl::store {

namespace {

class AggregatingSink : public ingest::RecordSink {
 public:
  explicit AggregatingSink(usage::Aggregator& agg) : m_agg(agg) {}
  void put(const usage::PricedRecord& r) override { m_agg.add(r); }

 private:
  usage::Aggregator& m_agg;
};

}  // namespace

FileUsageSource::FileUsageSource(std::vector<std::string> paths, const pricing::Catalog& catalog,
                                 ingest::IngestOptions options, ingest::ProgressFn progress)
    : m_paths(ingest::expand_inputs(paths)), m_catalog(catalog), m_options(std::move(options)), m_progress(std::move(progress)) {
  // An aggregation needs neither the file digest nor ids for rows without one.
  m_options.read.digest = false;
  m_options.read.derive_ids = false;
}

std::vector<usage::AggResult> FileUsageSource::aggregate(const std::vector<usage::AggQuery>& queries) {
  usage::Aggregator agg(queries);
  AggregatingSink sink(agg);
  ingest::Ingestor ingestor(m_catalog, m_options, sink);
  for (const auto& p : m_paths) ingestor.read(p, m_progress);
  ingestor.finish();
  m_rejected = ingestor.total_rejected();
  m_unpriced = ingestor.total_unpriced();
  return agg.results();
}

std::vector<pricing::CatalogInfo> FileUsageSource::catalogs_used(util::Seconds, util::Seconds) {
  return {m_catalog.info()};
}

}  // namespace billctl::store
