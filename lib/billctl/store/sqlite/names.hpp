// Names kept in a store file, for shell completion: budget names, invoice numbers, report
// templates, organizations and the values of a usage dimension. Read without changing the file
// (read-only connection, no migration); a missing file, another schema version or any error gives
// no names, since a completion must never fail or write.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace billctl::store {

enum class NameKind { budget, invoice, report_template, organization, dimension };

// At most `limit` names starting with `prefix`, sorted. `dim` names the dimension for
// NameKind::dimension (provider, model, organization, department, user, feature, project).
// Dimension values are found by seeking the hourly rollup's key from one value to the next, so
// the cost grows with the number of distinct values, not of records.
std::vector<std::string> stored_names(const std::string& path, NameKind kind, std::string_view prefix, size_t limit,
                                      std::string_view dim = {});

}  // namespace billctl::store
