#include "billctl/money/decimal.hpp"

#include <algorithm>

namespace billctl::money {

namespace {

constexpr i128 k_max_units = (i128(1) << 126);  // headroom so that +,- of two valid values is checked cheaply

[[noreturn]] void overflow(const char* op) {
  throw DataError(std::string("decimal overflow in ") + op);
}

i128 checked(i128 v, const char* op) {
  if (v > k_max_units || v < -k_max_units) overflow(op);
  return v;
}

}  // namespace

i128 pow10(int n) {
  i128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

std::string to_string(i128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  // Work in the negative domain so that the minimum value does not overflow on negation.
  if (!neg) v = -v;
  char buf[48];
  int p = sizeof buf;
  while (v != 0) {
    buf[--p] = char('0' - int(v % 10));
    v /= 10;
  }
  if (neg) buf[--p] = '-';
  return std::string(buf + p, buf + sizeof buf);
}

i128 div_round(i128 a, i128 b, Rounding mode) {
  i128 q = a / b;  // truncates toward zero
  i128 r = a % b;
  if (r == 0) return q;
  const bool neg = (a < 0) != (b < 0);
  const i128 ar = r < 0 ? -r : r;
  const i128 ab = b < 0 ? -b : b;
  bool away = false;
  switch (mode) {
    case Rounding::down: away = false; break;
    case Rounding::up: away = true; break;
    case Rounding::half_up: away = 2 * ar >= ab; break;
    case Rounding::half_even:
      if (2 * ar > ab) away = true;
      else if (2 * ar == ab) away = (q % 2) != 0;
      break;
  }
  if (away) q += neg ? -1 : 1;
  return q;
}

Decimal Decimal::from_int(int64_t n) { return Decimal(i128(n) * k_one); }

Expected<Decimal> Decimal::parse(std::string_view s) {
  auto bad = [&](const char* why) {
    return Expected<Decimal>::fail(std::string(why) + " '" + std::string(s.substr(0, 64)) + "'");
  };
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  i128 mant = 0;
  int frac_digits = 0;  // digits after the point that went into mant
  int digits = 0;
  bool seen_point = false;
  int dropped_nonzero = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      ++digits;
      if (mant > (i128(1) << 120)) return bad("number too large");
      if (seen_point && frac_digits >= 30) {
        if (c != '0') dropped_nonzero = 1;
        continue;
      }
      mant = mant * 10 + (c - '0');
      if (seen_point) ++frac_digits;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (digits == 0) return bad("not a number");
  int exp = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
    int ed = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (exp > 1000) return bad("exponent out of range in");
      exp = exp * 10 + (s[i] - '0');
      ++ed;
    }
    if (ed == 0) return bad("not a number");
    if (eneg) exp = -exp;
  }
  if (i != s.size()) return bad("not a number");
  if (dropped_nonzero) return bad("more than 12 fractional digits in");
  // value = mant * 10^(exp - frac_digits); we want units = value * 10^12.
  int shift = exp - frac_digits + k_scale;
  if (shift >= 0) {
    if (shift > 36) {
      if (mant != 0) return bad("number too large");
    } else {
      i128 p = pow10(shift);
      if (mant != 0 && mant > k_max_units / p) return bad("number too large");
      mant *= p;
    }
  } else {
    if (-shift > 36) {
      if (mant != 0) return bad("more than 12 fractional digits in");
    } else {
      i128 p = pow10(-shift);
      if (mant % p != 0) return bad("more than 12 fractional digits in");
      mant /= p;
    }
  }
  return Decimal(neg ? -mant : mant);
}

Decimal Decimal::operator+(Decimal o) const {
  i128 r;
  if (__builtin_add_overflow(m_units, o.m_units, &r)) overflow("addition");
  return Decimal(checked(r, "addition"));
}
Decimal Decimal::operator-(Decimal o) const {
  i128 r;
  if (__builtin_sub_overflow(m_units, o.m_units, &r)) overflow("subtraction");
  return Decimal(checked(r, "subtraction"));
}
Decimal Decimal::operator-() const { return Decimal(-m_units); }

Decimal Decimal::mul_int(int64_t n) const {
  i128 r;
  if (__builtin_mul_overflow(m_units, i128(n), &r)) overflow("multiplication");
  return Decimal(checked(r, "multiplication"));
}

Decimal Decimal::mul(Decimal o, Rounding mode) const {
  // (a * b) / 10^12 without overflowing the intermediate: split b into high and low parts.
  const i128 a = m_units;
  const i128 b = o.m_units;
  const i128 bh = b / k_one;
  const i128 bl = b % k_one;
  i128 hi;
  if (__builtin_mul_overflow(a, bh, &hi)) overflow("multiplication");
  i128 lo_prod;
  if (__builtin_mul_overflow(a, bl, &lo_prod)) {
    // a is huge: fall back to splitting a as well.
    const i128 ah = a / k_one, al = a % k_one;
    i128 t;
    if (__builtin_mul_overflow(ah, bl, &t)) overflow("multiplication");
    const i128 lo = div_round(al * bl, k_one, mode);
    return Decimal(checked(hi + t + lo, "multiplication"));
  }
  return Decimal(checked(hi + div_round(lo_prod, k_one, mode), "multiplication"));
}

Decimal Decimal::div_int(int64_t n, Rounding mode) const {
  if (n == 0) throw DataError("division by zero");
  return Decimal(div_round(m_units, n, mode));
}

Decimal Decimal::round(int digits, Rounding mode) const {
  if (digits >= k_scale) return *this;
  const i128 p = pow10(k_scale - digits);
  return Decimal(div_round(m_units, p, mode) * p);
}

std::string Decimal::to_string(int min_frac) const {
  i128 u = m_units;
  const bool neg = u < 0;
  if (neg) u = -u;
  const i128 whole = u / k_one;
  i128 frac = u % k_one;
  std::string out = neg ? "-" : "";
  out += money::to_string(whole);
  int nfrac = k_scale;
  while (nfrac > min_frac && frac % 10 == 0) {
    frac /= 10;
    --nfrac;
  }
  if (nfrac > 0) {
    std::string f = money::to_string(frac);
    out += '.';
    out.append(size_t(nfrac) - f.size(), '0');
    out += f;
  }
  return out;
}

std::string Decimal::format(int frac, bool grouping) const {
  const Decimal r = round(frac);
  i128 u = r.m_units;
  const bool neg = u < 0;
  if (neg) u = -u;
  std::string whole = money::to_string(u / k_one);
  if (grouping && whole.size() > 3) {
    std::string g;
    const size_t n = whole.size();
    for (size_t i = 0; i < n; ++i) {
      if (i > 0 && (n - i) % 3 == 0) g += ',';
      g += whole[i];
    }
    whole = g;
  }
  std::string out = neg ? "-" : "";
  out += whole;
  if (frac > 0) {
    std::string f = money::to_string((u % k_one) / pow10(k_scale - frac));
    out += '.';
    out.append(size_t(frac) - f.size(), '0');
    out += f;
  }
  return out;
}

}  // namespace billctl::money
