#include "billctl/ingest/read_ahead.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace billctl::ingest {

namespace {

constexpr size_t k_batches = 3;  // one being filled, one being written, one waiting
using usage::text_fields;

// What was read, in order: records (their text copied into one buffer), billed lines and the ends
// of inputs.
struct Batch {
  enum class Kind : uint8_t { record, billed, done };
  std::vector<std::pair<Kind, uint32_t>> items;  // what, and its index in its vector
  std::vector<usage::UsageRecord> records;
  std::vector<usage::PricedRecord> priced;
  std::vector<uint32_t> offsets;  // each record's text fields' starts in `text`, then the end of its last
  std::string text;
  std::vector<providers::BilledLine> billed;
  std::vector<SourceStats> done;

  void add(const usage::PricedRecord& pr) {
    items.emplace_back(Kind::record, uint32_t(records.size()));
    records.push_back(*pr.record);
    priced.push_back(pr);
    for (std::string_view* v : text_fields(records.back())) {
      offsets.push_back(uint32_t(text.size()));
      text.append(*v);
    }
    offsets.push_back(uint32_t(text.size()));
  }
  // The text no longer grows: point each record's fields into it.
  void seal() {
    const uint32_t* off = offsets.data();
    for (size_t i = 0; i < records.size(); ++i) {
      for (std::string_view* v : text_fields(records[i])) {
        *v = std::string_view(text.data() + off[0], off[1] - off[0]);
        ++off;
      }
      ++off;  // past the end of its last field
      priced[i].record = &records[i];
    }
  }
  void clear() {
    items.clear();
    records.clear();
    priced.clear();
    offsets.clear();
    text.clear();
    billed.clear();
    done.clear();
  }
  void deliver(ReadConsumer& c) const {
    for (const auto& [kind, i] : items) {
      switch (kind) {
        case Kind::record: c.put(priced[i]); break;
        case Kind::billed: c.put_billed(billed[i]); break;
        case Kind::done: c.source_done(done[i]); break;
      }
    }
  }
};

// Thrown on the reading thread when the writing side stopped: unwinds the reading.
struct Cancelled {};

// The queue between the two threads.
class Channel : public RecordSink {
 public:
  Channel(ReadConsumer& consumer, size_t batch_records) : m_consumer(consumer), m_batch(std::max<size_t>(batch_records, 1)) {
    for (size_t i = 0; i + 1 < k_batches; ++i) m_free.push_back(std::make_unique<Batch>());
    m_filling = std::make_unique<Batch>();
  }

  // The reading side.
  void put(const usage::PricedRecord& r) override {
    m_consumer.ahead(r);
    m_filling->add(r);
    if (m_filling->records.size() >= m_batch) hand_over();
  }
  void put_billed(const providers::BilledLine& b) override {
    m_filling->items.emplace_back(Batch::Kind::billed, uint32_t(m_filling->billed.size()));
    m_filling->billed.push_back(b);
  }
  void done(const SourceStats& s) {
    m_filling->items.emplace_back(Batch::Kind::done, uint32_t(m_filling->done.size()));
    m_filling->done.push_back(s);
  }
  // The reading ended, with `error` or without.
  void finish(std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_filling && !m_filling->items.empty()) {  // none after a cancelled hand-over
      m_filling->seal();
      m_ready.push_back(std::move(m_filling));
    }
    m_read_error = error;
    m_finished = true;
    m_cv.notify_all();
  }

  // The writing side: delivers batches until the reading finished; rethrows its error.
  void drain(ReadConsumer& consumer) {
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
      m_cv.wait(lock, [&] { return !m_ready.empty() || m_finished; });
      if (m_ready.empty()) break;
      std::unique_ptr<Batch> b = std::move(m_ready.front());
      m_ready.pop_front();
      lock.unlock();
      try {
        b->deliver(consumer);
      } catch (...) {
        lock.lock();
        m_cancelled = true;
        m_cv.notify_all();
        throw;
      }
      b->clear();
      lock.lock();
      m_free.push_back(std::move(b));
      m_cv.notify_all();
    }
    if (m_read_error) std::rethrow_exception(m_read_error);
  }
  void cancel() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_cancelled = true;
    m_cv.notify_all();
  }

 private:
  void hand_over() {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_filling->seal();
    m_ready.push_back(std::move(m_filling));
    m_cv.notify_all();
    m_cv.wait(lock, [&] { return !m_free.empty() || m_cancelled; });
    if (m_cancelled) throw Cancelled{};
    m_filling = std::move(m_free.back());
    m_free.pop_back();
  }

  ReadConsumer& m_consumer;  // its ahead() only, on the reading side
  size_t m_batch;
  std::unique_ptr<Batch> m_filling;  // the reading side's
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::unique_ptr<Batch>> m_ready;
  std::vector<std::unique_ptr<Batch>> m_free;
  bool m_finished = false;
  bool m_cancelled = false;
  std::exception_ptr m_read_error;
};

// Without a second thread: everything goes straight to the consumer.
class Direct : public RecordSink {
 public:
  explicit Direct(ReadConsumer& c) : m_consumer(c) {}
  void put(const usage::PricedRecord& r) override {
    m_consumer.ahead(r);
    m_consumer.put(r);
  }
  void put_billed(const providers::BilledLine& b) override { m_consumer.put_billed(b); }

 private:
  ReadConsumer& m_consumer;
};

}  // namespace

void read_ahead(const ReadFn& read, ReadConsumer& consumer, bool threaded, size_t batch_records) {
  if (!threaded) {
    Direct sink(consumer);
    read(sink, [&](const SourceStats& s) { consumer.source_done(s); });
    return;
  }
  Channel channel(consumer, batch_records);
  std::thread reader([&] {
    std::exception_ptr error;
    try {
      read(channel, [&](const SourceStats& s) { channel.done(s); });
    } catch (const Cancelled&) {
    } catch (...) {
      error = std::current_exception();
    }
    channel.finish(error);
  });
  try {
    channel.drain(consumer);
  } catch (...) {
    channel.cancel();
    reader.join();
    throw;
  }
  reader.join();
}

}  // namespace billctl::ingest
