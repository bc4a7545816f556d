// The invoicing tables of the config file: [invoices] (issuer, terms, tax, default plan, fonts,
// time zone) and [orgs.NAME] (an organization's plan and bill-to details).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "billctl/billing/invoice.hpp"

#include <toml++/toml.h>

namespace billctl::billing {

struct InvoiceSettings {
  Party issuer;
  int net_days = 30;
  std::optional<std::string> tax_rate;
  std::string tax_name = "Tax";
  std::string default_plan;
  std::string font, font_bold;  // TrueType files for PDFs (empty: the default)
  std::string tz = "UTC";       // the issuer's: an invoice is due until the end of its due date there
};

// Parses [invoices] (nullptr: the defaults). `origin` names the file. Throws DataError naming the
// file, line and key.
InvoiceSettings parse_invoice_settings(const toml::table* invoices, const std::string& origin);

// The organizations' plans and bill-to details: [orgs.NAME] tables, then the store's plan
// assignments (which win), with the default plan of the settings.
OrgDirectory parse_org_directory(const toml::table* orgs, const std::string& origin, const std::string& default_plan,
                                 const std::map<std::string, std::string>& assignments);

}  // namespace billctl::billing
