#include "billctl/render/pdf_invoice.hpp"

#include <hpdf.h>

#include <functional>
#include <memory>
#include <vector>

#include "billctl/render/pdf_doc.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::render {

namespace {

constexpr float k_width = 595.28f;   // A4
constexpr float k_height = 841.89f;
constexpr float k_left = 50, k_right = 545;
constexpr float k_bottom = 80;        // rows stop here; the footer sits below
constexpr float k_row = 16;

// Table columns: description (left), then right edges of quantity, unit price, amount.
constexpr float k_desc_right = 250, k_qty_right = 360, k_price_right = 462, k_amount_right = k_right;

void rule(Doc& d, float y, float gray = 0.75f, float width = 0.5f) {
  if (!d.page) return;
  HPDF_Page_SetGrayStroke(d.page, gray);
  HPDF_Page_SetLineWidth(d.page, width);
  HPDF_Page_MoveTo(d.page, k_left, y);
  HPDF_Page_LineTo(d.page, k_right, y);
  HPDF_Page_Stroke(d.page);
}

void band(Doc& d, float y, float h, float gray) {
  if (!d.page) return;
  HPDF_Page_SetGrayFill(d.page, gray);
  HPDF_Page_Rectangle(d.page, k_left, y, k_right - k_left, h);
  HPDF_Page_Fill(d.page);
  HPDF_Page_SetGrayFill(d.page, 0);
}

std::string date_text(util::Seconds t) { return util::format_date(util::day_of(t)); }

std::string money_text(const money::Decimal& d, const money::Currency& c) { return d.round(c.minor_units).format(c.minor_units); }

std::string status_title(const std::string& s) {
  if (s == "draft") return "DRAFT";
  if (s == "pending") return "DUE";
  if (s == "overdue") return "OVERDUE";
  if (s == "paid") return "PAID";
  if (s == "void") return "VOID";
  return s;
}

// A party's address, e-mail and tax id lines from `y` down; returns the y below them.
// The lines under a party's name: address, e-mail, tax ID.
std::vector<std::string> party_text(const billing::Party& p) {
  std::vector<std::string> out = p.address;
  if (!p.email.empty()) out.push_back(p.email);
  if (!p.tax_id.empty()) out.push_back("Tax ID " + p.tax_id);
  return out;
}

// The header holds this many lines of a party; more continue in the flowing part (a 200-line
// address must not run over the footer).
constexpr size_t k_header_party_lines = 10;

float party_lines(Doc& d, const billing::Party& p, float y) {
  const auto lines = party_text(p);
  for (size_t i = 0; i < lines.size() && i < k_header_party_lines; ++i) {
    text(d, d.regular, 9, k_left, y, lines[i], Align::left, 300);
    y -= 11;
  }
  return y;
}

// An item of the flowing part of the document and how tall it is.
struct Item {
  float height;
  bool table_row;  // a line item: a new page repeats the table header first
  std::function<void(Doc&, float y)> draw;
};

}  // namespace

std::string invoice_pdf(const billing::Invoice& inv, const PdfFonts& fonts, util::Seconds now) {
  Doc d;
  open_document(d, fonts.regular, fonts.bold, "install fonts-dejavu-core or set [invoices] font and font_bold", fonts.fallbacks);
  HPDF_SetInfoAttr(d.pdf, HPDF_INFO_CREATOR, "billctl");
  HPDF_SetInfoAttr(d.pdf, HPDF_INFO_TITLE, ("Invoice " + inv.number).c_str());
  const util::Date issued = util::civil_from_days(util::day_of(inv.issued_at));
  HPDF_Date date{issued.year, issued.month, issued.day, 0, 0, 0, 'Z', 0, 0};
  HPDF_SetInfoDateAttr(d.pdf, HPDF_INFO_CREATION_DATE, date);

  const money::Currency& cur = inv.currency;
  const std::string cname(cur.name());
  const std::string status = inv.status_at(now);

  // ---- the flowing part: what did not fit in the header, line items, totals, usage, terms ----
  std::vector<Item> items;
  for (const auto& [heading, party] : {std::pair<std::string, const billing::Party*>{"From (continued)", &inv.issuer},
                                     std::pair<std::string, const billing::Party*>{"Bill to (continued)", &inv.bill_to}}) {
    const std::string title = heading;  // lambdas cannot capture structured bindings (clang, C++20)
    const auto lines = party_text(*party);
    if (lines.size() <= k_header_party_lines) continue;
    items.push_back({16, false, [title](Doc& doc, float y) { text(doc, doc.bold, 8, k_left, y + 4, title); }});
    for (size_t i = k_header_party_lines; i < lines.size(); ++i)
      items.push_back({11, false, [line = lines[i]](Doc& doc, float y) { text(doc, doc.regular, 9, k_left, y + 2, line, Align::left, 480); }});
    items.push_back({12, false, [](Doc&, float) {}});
  }
  for (const auto& l : inv.lines) {
    // A long description takes a second line; the numbers stay on the first.
    const auto desc = wrap2(d, d.regular, 9, l.description, k_desc_right - k_left - 8);
    const float h = desc.size() == 1 ? k_row : k_row + 11;
    items.push_back({h, true, [&l, &cur, desc, h](Doc& doc, float y) {
                       const float top = y + h - 12;
                       for (size_t i = 0; i < desc.size(); ++i)
                         text(doc, doc.regular, 9, k_left + 4, top - 11 * float(i), desc[i], Align::left, k_desc_right - k_left - 8);
                       number_text(doc, doc.regular, 9, k_qty_right, top, l.quantity, k_qty_right - k_desc_right - 6);
                       number_text(doc, doc.regular, 9, k_price_right, top, l.unit_price, k_price_right - k_qty_right - 6);
                       text(doc, doc.regular, 9, k_amount_right - 4, top, money_text(l.amount, cur), Align::right);
                       rule(doc, y, 0.85f, 0.4f);
                     }});
  }
  items.push_back({10, false, [](Doc&, float) {}});
  auto total_row = [&](std::string label, std::string value, bool strong) {
    items.push_back({strong ? 20.f : k_row, false, [label, value, strong](Doc& doc, float y) {
                       HPDF_Font f = strong ? doc.bold : doc.regular;
                       const float size = strong ? 11.f : 9.f;
                       if (strong) {
                         HPDF_Page_SetGrayStroke(doc.page, 0.2f);
                         HPDF_Page_SetLineWidth(doc.page, 0.8f);
                         HPDF_Page_MoveTo(doc.page, 330, y + 18);
                         HPDF_Page_LineTo(doc.page, k_right, y + 18);
                         HPDF_Page_Stroke(doc.page);
                       }
                       text(doc, f, size, k_price_right, y + 5, label, Align::right);
                       text(doc, f, size, k_amount_right - 4, y + 5, value, Align::right);
                     }});
  };
  total_row("Subtotal", money_text(inv.subtotal, cur), false);
  if (!inv.credits_applied.is_zero())
    total_row("Credits applied (" + inv.credits_used.round(2).format(2) + " credits)", money_text(-inv.credits_applied, cur), false);
  if (!inv.tax_rate.empty()) total_row(inv.tax_name + " (" + inv.tax_rate + " %)", money_text(inv.tax, cur), false);
  total_row("Total " + cname, money_text(inv.total, cur), true);

  if (!inv.usage.empty()) {
    items.push_back({28, false, [&inv](Doc& doc, float y) {
                       text(doc, doc.bold, 10, k_left, y + 6, "Usage in " + inv.period + " on the " + inv.plan_title + " plan");
                     }});
    items.push_back({k_row, false, [](Doc& doc, float y) {
                       text(doc, doc.bold, 8, k_left + 4, y + 4, "Metric");
                       text(doc, doc.bold, 8, 300, y + 4, "Used", Align::right);
                       text(doc, doc.bold, 8, 400, y + 4, "Included", Align::right);
                       text(doc, doc.bold, 8, 470, y + 4, "Used %", Align::right);
                       text(doc, doc.bold, 8, k_right - 4, y + 4, "Over", Align::right);
                       rule(doc, y, 0.6f, 0.5f);
                     }});
    for (const auto& u : inv.usage) {
      items.push_back({14, false, [&u](Doc& doc, float y) {
                         const auto& mi = billing::info(u.metric);
                         text(doc, doc.regular, 8, k_left + 4, y + 4, std::string(mi.title));
                         text(doc, doc.regular, 8, 300, y + 4, billing::quantity_with_unit(u.used, u.metric), Align::right);
                         text(doc, doc.regular, 8, 400, y + 4, billing::quantity_text(u.limit, u.metric), Align::right);
                         text(doc, doc.regular, 8, 470, y + 4,
                              u.tenths ? std::to_string(*u.tenths / 10) + "." + std::to_string(*u.tenths % 10) + " %" : "-", Align::right);
                         text(doc, doc.regular, 8, k_right - 4, y + 4, u.overage.is_zero() ? "-" : billing::quantity_text(u.overage, u.metric),
                              Align::right);
                       }});
    }
  }
  std::string terms = status == "paid" ? "Paid on " + date_text(inv.paid_at) +
                                             (inv.payment_reference.empty() ? "" : ", reference " + inv.payment_reference) + ". Thank you."
                      : status == "void" ? "This invoice is void and not payable."
                                         : "Payment terms: net " + std::to_string(inv.net_days) + " days. Please pay " +
                                               money_text(inv.total, cur) + " " + cname + " by " + inv.due_text() +
                                               ", quoting " + inv.number + ".";
  items.push_back({34, false, [terms](Doc& doc, float y) { text(doc, doc.regular, 9, k_left, y + 8, terms); }});

  // ---- page furniture ----
  auto first_header = [&](Doc& doc) -> float {
    // Issuer, top left.
    float y = 790;
    text(doc, doc.bold, 14, k_left, y, inv.issuer.name.empty() ? "billctl" : inv.issuer.name, Align::left, 280);
    y = party_lines(doc, inv.issuer, y - 14);
    // Title and facts, top right.
    text(doc, doc.bold, 22, k_right, 786, "INVOICE", Align::right);
    const std::pair<std::string, std::string> facts[] = {{"Invoice number", inv.number},
                                                         {"Issue date", inv.issue_text()},
                                                         {"Due date", inv.due_text()},
                                                         {"Period", inv.partial ? inv.period + " (partial)" : inv.period},
                                                         {"Status", status_title(status)}};
    float fy = 762;
    for (const auto& [k, v] : facts) {
      text(doc, doc.regular, 9, 440, fy, k, Align::right);
      text(doc, k == "Status" ? doc.bold : doc.regular, 9, k_right, fy, v, Align::right);
      fy -= 12;
    }
    // Bill to.
    y = std::min(y, fy) - 24;
    text(doc, doc.bold, 8, k_left, y, "BILL TO");
    y -= 14;
    text(doc, doc.bold, 11, k_left, y, inv.bill_to.name, Align::left, 300);
    y = party_lines(doc, inv.bill_to, y - 13);
    text(doc, doc.regular, 9, k_left, y - 6, "Organization " + inv.organization + ", plan " + inv.plan_title);
    return y - 30;
  };
  auto table_header = [&](Doc& doc, float y) -> float {
    band(doc, y - 18, 18, 0.9f);
    text(doc, doc.bold, 9, k_left + 4, y - 13, "Description");
    text(doc, doc.bold, 9, k_qty_right, y - 13, "Quantity", Align::right);
    text(doc, doc.bold, 9, k_price_right, y - 13, "Unit price", Align::right);
    text(doc, doc.bold, 9, k_amount_right - 4, y - 13, "Amount " + cname, Align::right);
    return y - 18;
  };
  auto continuation_header = [&](Doc& doc) -> float {
    text(doc, doc.bold, 11, k_left, 790, inv.issuer.name.empty() ? "billctl" : inv.issuer.name, Align::left, 300);
    text(doc, doc.regular, 9, k_right, 790, "Invoice " + inv.number + " (continued)", Align::right);
    rule(doc, 780, 0.6f, 0.5f);
    return 760;
  };

  // Lays the items out; with `draw` false it only counts the pages.
  auto layout = [&](bool draw, int pages_total) -> int {
    int pages = 0;
    float y = 0;
    bool table_open = false;
    auto new_page = [&](bool first) {
      ++pages;
      d.page = nullptr;
      if (draw) {
        d.page = HPDF_AddPage(d.pdf);
        HPDF_Page_SetWidth(d.page, k_width);
        HPDF_Page_SetHeight(d.page, k_height);
      }
      y = first ? first_header(d) : continuation_header(d);
      table_open = false;
      if (draw) {
        rule(d, 58, 0.75f, 0.5f);
        text(d, d.regular, 8, k_left, 44, inv.issuer.name.empty() ? "billctl" : inv.issuer.name, Align::left, 300);
        text(d, d.regular, 8, k_right, 44, inv.number + "  \xC2\xB7  Page " + std::to_string(pages) + " of " + std::to_string(pages_total),
             Align::right);
        if (status == "void" || status == "paid" || status == "overdue" || status == "draft") {
          HPDF_Page_SetRGBFill(d.page, status == "paid" ? 0.1f : 0.75f, status == "paid" ? 0.5f : 0.1f, 0.1f);
          text(d, d.bold, 9, k_right, 30, status_title(status), Align::right);
          HPDF_Page_SetRGBFill(d.page, 0, 0, 0);
        }
      }
    };
    new_page(true);
    for (const auto& it : items) {
      const float need = it.height + (it.table_row && !table_open ? 18 : 0);
      if (y - need < k_bottom) new_page(false);
      if (it.table_row && !table_open) {
        y = table_header(d, y);
        table_open = true;
      }
      y -= it.height;
      if (draw) it.draw(d, y);
    }
    return pages;
  };
  const int pages = layout(false, 0);
  layout(true, pages);
  return document_bytes(d, "invoice " + inv.number);
}

}  // namespace billctl::render
