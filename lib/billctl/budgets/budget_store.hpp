// Where budgets are kept: replaced whole by name.
#pragma once

#include <string>
#include <vector>

#include "billctl/budgets/budget.hpp"

namespace billctl::budgets {

class BudgetStore {
 public:
  virtual ~BudgetStore() = default;
  // Every budget, by name.
  virtual std::vector<Budget> list_budgets() = 0;
  virtual void put_budget(const Budget& b, util::Seconds now) = 0;
  // Removes all the named budgets, or none: returns the names not found (nothing removed then).
  virtual std::vector<std::string> remove_budgets(const std::vector<std::string>& names) = 0;
  // Stores `put` and removes `remove` in one transaction (budgets apply).
  virtual void apply_budgets(const std::vector<Budget>& put, const std::vector<std::string>& remove, util::Seconds now) = 0;
};

}  // namespace billctl::budgets
