// Where invoices are kept: the documents, their gapless numbers per year, and which organization
// is on which plan since when.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "billctl/util/time.hpp"
#include "billctl/util/txn.hpp"

namespace billctl::billing {

struct Invoice;

class InvoiceStore {
 public:
  virtual ~InvoiceStore() = default;
  // Everything between this and commit() lands together (the credit ledger of the same file joins in).
  virtual std::unique_ptr<util::Txn> transaction() = 0;

  // Organization -> plan.
  virtual std::map<std::string, std::string> assignments() = 0;
  // Organization -> when billing on its plan starts.
  virtual std::map<std::string, util::Seconds> assignment_starts() = 0;
  // Puts an organization on a plan; the start moves to `start` for a new assignment, or when
  // `move_start` (a backdated one), else it keeps the first assignment's.
  virtual void assign(const std::string& organization, const std::string& plan, util::Seconds start, bool move_start) = 0;

  // The number and status of the organization's invoice for the period that is not void.
  virtual std::optional<std::pair<std::string, std::string>> open_invoice(const std::string& organization,
                                                                          const std::string& period) = 0;
  // The next number of the year: 1, 2, ... without gaps (rolled back with the transaction).
  virtual int64_t next_number(int year) = 0;
  // Stores a new invoice; returns its id.
  virtual int64_t insert(const Invoice& inv) = 0;
  // Stores a changed invoice (status, dates, history).
  virtual void update(const Invoice& inv) = 0;
  virtual std::optional<Invoice> find_by_id(int64_t id) = 0;
  virtual std::optional<Invoice> find_by_number(const std::string& number) = 0;
  // By number; either filter may be empty.
  virtual std::vector<Invoice> list(const std::string& period, const std::string& organization) = 0;
};

}  // namespace billctl::billing
