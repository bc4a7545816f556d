// Which alerts were sent: each budget alert goes out at most once per budget, period, stage and
// channel, however many runs of `budgets notify` overlap.
#pragma once

#include <string>
#include <vector>

#include "billctl/util/time.hpp"

namespace billctl::notify {

// One alert on one channel.
struct AlertKey {
  std::string budget, period, stage, channel;
};

class AlertLog {
 public:
  virtual ~AlertLog() = default;
  // True when this run should send the alert: not sent, not being sent by another run (a claim
  // older than 10 minutes is taken over: its run died). A failed alert is claimed again.
  virtual bool claim_alert(const AlertKey& k, util::Seconds now) = 0;
  // Records the outcome of a claimed alert.
  virtual void finish_alert(const AlertKey& k, bool sent, const std::string& error, util::Seconds now) = 0;
  // Records a lower stage as covered by a higher one that was sent.
  virtual void supersede_alert(const AlertKey& k, util::Seconds now) = 0;
  // Sent, or superseded.
  virtual bool alert_sent(const AlertKey& k) = 0;
  // Periods for which alerts were sent on a channel (PagerDuty resolves the ended ones).
  virtual std::vector<std::string> alerted_periods(const std::string& budget, const std::string& channel) = 0;
};

}  // namespace billctl::notify
