#include "billctl/usage/record.hpp"

namespace billctl::usage {

std::string_view tier_name(Tier t) {
  switch (t) {
    case Tier::standard: return "standard";
    case Tier::batch: return "batch";
    case Tier::flex: return "flex";
    case Tier::priority: return "priority";
  }
  return "standard";
}

bool parse_tier(std::string_view s, Tier& out) {
  if (s.empty() || s == "standard" || s == "default" || s == "auto") out = Tier::standard;
  else if (s == "batch") out = Tier::batch;
  else if (s == "flex") out = Tier::flex;
  else if (s == "priority" || s == "scale") out = Tier::priority;
  else return false;
  return true;
}

std::string_view status_name(Status s) { return s == Status::ok ? "ok" : "error"; }

}  // namespace billctl::usage
