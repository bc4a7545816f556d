// Fuzz target for the usage readers: BILLCTL_FUZZ_FORMAT picks csv, jsonl, claude-code, openai-api,
// anthropic-api, litellm or gcp-billing (one binary per format is built with it defined). Bad rows
// must be rejected with a message.
#include <cstdint>

#include "billctl/ingest/ingestor.hpp"
#include "billctl/pricing/catalog.hpp"
#include "billctl/util/error.hpp"
#include "fuzz_common.hpp"

namespace {

class CountingSink : public billctl::ingest::RecordSink {
 public:
  void put(const billctl::usage::PricedRecord& r) override {
    // Touch every field the way the aggregator does.
    n += uint64_t(r.record->input_tokens + r.record->output_tokens) + r.record->model.size() + r.record->user.size();
  }
  uint64_t n = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const billctl::pricing::Catalog catalog = billctl::pricing::Catalog::builtin();
  MemFile f(data, size);
  for (auto policy : {billctl::ingest::OnError::fail, billctl::ingest::OnError::skip}) {
    billctl::ingest::IngestOptions o;
    billctl::ingest::parse_format(BILLCTL_FUZZ_FORMAT, o.format);
    o.on_error = policy;
    o.allow_unpriced = true;
    CountingSink sink;
    billctl::ingest::Ingestor in(catalog, o, sink);
    try {
      in.read(f.path());
    } catch (const billctl::Error&) {
    }
  }
  return 0;
}
