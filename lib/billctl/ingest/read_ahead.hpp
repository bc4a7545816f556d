// Reading an import ahead of its writing: the inputs are read, parsed and priced on a second
// thread while the thread that opened the store writes what they yield, in order. The store stays
// on its own thread (its memory in the main heap), so the only thing that crosses is records,
// copied into a few batches that are reused.
#pragma once

#include <cstddef>
#include <functional>

#include "billctl/ingest/ingestor.hpp"

namespace billctl::ingest {

// What the writing side does with what was read, in the order it was read.
class ReadConsumer {
 public:
  virtual ~ReadConsumer() = default;
  // Each record on the reading side (the second thread when threaded), before it is queued for
  // put(): work that needs nothing of the writing side. Not called concurrently with itself.
  virtual void ahead(const usage::PricedRecord&) {}
  virtual void put(const usage::PricedRecord& r) = 0;
  virtual void put_billed(const providers::BilledLine& b) = 0;
  // After the last record of an input.
  virtual void source_done(const SourceStats& s) = 0;
};

// The reading side: records go to `sink`; `done(stats)` marks the end of each input.
using ReadFn = std::function<void(RecordSink& sink, const std::function<void(const SourceStats&)>& done)>;

// Runs `read` and hands everything it yields to `consumer` on this thread. With `threaded`, `read`
// runs on a second thread and the two overlap; without, `read` runs here and each record goes
// straight through. Either way the consumer sees the same calls in the same order, and an error
// is reported as a serial run would meet it: what the consumer throws for a record comes before
// what the reading throws after that record.
void read_ahead(const ReadFn& read, ReadConsumer& consumer, bool threaded, size_t batch_records = 4096);

}  // namespace billctl::ingest
