// The alert log: one row per budget, period, stage and channel, claimed before sending.
#include "billctl/store/sqlite/adapters.hpp"

namespace billctl::store {

bool SqliteAlerts::claim_alert(const notify::AlertKey& k, util::Seconds now) {
  // A claim is taken in a write transaction, so two notify runs at the same time cannot both
  // take it. A claim left by a run that died is taken over after 10 minutes.
  Transaction t(m_db);
  Stmt get(m_db, "SELECT state, claimed_at FROM alerts WHERE budget = ?1 AND period = ?2 AND stage = ?3 AND channel = ?4");
  get.bind(1, k.budget).bind(2, k.period).bind(3, k.stage).bind(4, k.channel);
  if (get.step()) {
    const std::string state(get.text(0));
    if (state == "sent" || state == "superseded") return false;
    if (state == "sending" && get.int64(1) > now - 600) return false;
  }
  get.reset();
  Stmt put(m_db,
           "INSERT INTO alerts(budget, period, stage, channel, state, claimed_at) VALUES(?1, ?2, ?3, ?4, 'sending', ?5)"
           " ON CONFLICT(budget, period, stage, channel) DO UPDATE SET state = 'sending', claimed_at = ?5");
  put.bind(1, k.budget).bind(2, k.period).bind(3, k.stage).bind(4, k.channel).bind(5, now);
  put.step();
  t.commit();
  return true;
}

void SqliteAlerts::finish_alert(const notify::AlertKey& k, bool sent, const std::string& error, util::Seconds now) {
  Transaction t(m_db);
  Stmt upd(m_db,
           "UPDATE alerts SET state = ?5, sent_at = ?6, attempts = attempts + 1, last_error = ?7"
           " WHERE budget = ?1 AND period = ?2 AND stage = ?3 AND channel = ?4");
  const std::string at = util::format_rfc3339(now);
  upd.bind(1, k.budget).bind(2, k.period).bind(3, k.stage).bind(4, k.channel);
  upd.bind(5, std::string_view(sent ? "sent" : "failed"));
  if (sent) upd.bind(6, at).bind_null(7);
  else upd.bind_null(6).bind(7, error);
  upd.step();
  t.commit();
}

void SqliteAlerts::supersede_alert(const notify::AlertKey& k, util::Seconds now) {
  Stmt put(m_db,
           "INSERT INTO alerts(budget, period, stage, channel, state, claimed_at) VALUES(?1, ?2, ?3, ?4, 'superseded', ?5)"
           " ON CONFLICT(budget, period, stage, channel) DO UPDATE SET state = 'superseded' WHERE state <> 'sent'");
  put.bind(1, k.budget).bind(2, k.period).bind(3, k.stage).bind(4, k.channel).bind(5, now);
  put.step();
}

bool SqliteAlerts::alert_sent(const notify::AlertKey& k) {
  Stmt get(m_db, "SELECT 1 FROM alerts WHERE budget = ?1 AND period = ?2 AND stage = ?3 AND channel = ?4"
                 " AND state IN ('sent', 'superseded')");
  get.bind(1, k.budget).bind(2, k.period).bind(3, k.stage).bind(4, k.channel);
  return get.step();
}

std::vector<std::string> SqliteAlerts::alerted_periods(const std::string& budget, const std::string& channel) {
  std::vector<std::string> out;
  Stmt s(m_db, "SELECT DISTINCT period FROM alerts WHERE budget = ?1 AND channel = ?2 AND state = 'sent'"
               " AND stage <> 'resolve' ORDER BY period");
  s.bind(1, budget).bind(2, channel);
  while (s.step()) out.emplace_back(s.text(0));
  return out;
}

}  // namespace billctl::store
