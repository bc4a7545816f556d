// Where the user's own prices are kept (`prices import`): they replace the built-in timelines of
// their models.
#pragma once

#include <string>
#include <vector>

#include "billctl/pricing/catalog.hpp"

namespace billctl::pricing {

class PriceStore {
 public:
  virtual ~PriceStore() = default;
  virtual std::vector<PriceEntry> user_prices() = 0;
  // Stores the entries, replacing earlier user entries of the same models. Returns models stored.
  virtual size_t save_user_prices(const std::vector<PriceEntry>& entries, const std::string& name, util::Seconds now) = 0;
  // The name the user's prices were imported under ("" when there are none).
  virtual std::string user_catalog_name() = 0;
};

}  // namespace billctl::pricing
