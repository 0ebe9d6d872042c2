//! Exact money: an amount in millionths of a currency unit and an ISO 4217 code.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Amounts are kept in micro-units so that cents and sub-cent tariffs add exactly.
pub const MICROS_PER_UNIT: i64 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Currency(pub [u8; 3]);

/// The currency codes of ISO 4217 in use, with the fund, precious-metal and testing codes.
const ISO_4217: [&str; 182] = [
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP",
    "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP",
    "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS",
    "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW",
    "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD",
    "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN",
    "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR",
    "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL",
    "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES",
    "VND", "VUV", "WST", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR",
    "XOF", "XPD", "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub micros: i64,
    pub currency: Currency,
}

impl Currency {
    /// ISO 4217 `XXX`, "no currency": the currency of a sum of no amounts.
    pub const NONE: Currency = Currency(*b"XXX");

    /// A currency code of ISO 4217 (`EUR`, `USD`, `JPY`, and `XXX` for no currency).
    pub fn parse(code: &str) -> Option<Currency> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        ISO_4217.contains(&code).then_some(Currency(bytes))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl Money {
    /// Zero in no currency: adds to and compares with an amount in any currency.
    pub const ZERO: Money = Money {
        micros: 0,
        currency: Currency::NONE,
    };

    /// Parses a decimal amount such as `9.99` or `-12` exactly (at most six decimals).
    pub fn parse_amount(text: &str, currency: Currency) -> Option<Money> {
        let (neg, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if frac_part.len() > 6
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let whole: i64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().ok()?
        };
        let mut frac: i64 = if frac_part.is_empty() {
            0
        } else {
            frac_part.parse().ok()?
        };
        for _ in frac_part.len()..6 {
            frac *= 10;
        }
        let micros = whole.checked_mul(MICROS_PER_UNIT)?.checked_add(frac)?;
        Some(Money {
            micros: if neg { -micros } else { micros },
            currency,
        })
    }

    /// The amount as a double, for scoring and averages; exactness ends here.
    pub fn to_f64(self) -> f64 {
        self.micros as f64 / MICROS_PER_UNIT as f64
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.micros < 0 { "-" } else { "" };
        let abs = self.micros.unsigned_abs();
        let whole = abs / MICROS_PER_UNIT as u64;
        let mut frac = abs % MICROS_PER_UNIT as u64;
        // Two decimals at least, more only when the amount needs them.
        let mut digits = 6;
        while digits > 2 && frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
        write!(
            f,
            "{sign}{whole}.{frac:0digits$} {}",
            self.currency.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        let eur = Currency::parse("EUR").unwrap();
        let m = Money::parse_amount("9.99", eur).unwrap();
        assert_eq!(m.micros, 9_990_000);
        assert_eq!(m.to_string(), "9.99 EUR");
        assert_eq!(
            Money::parse_amount("0.000125", eur).unwrap().to_string(),
            "0.000125 EUR"
        );
        assert_eq!(
            Money::parse_amount("-12", eur).unwrap().to_string(),
            "-12.00 EUR"
        );
        assert!(Money::parse_amount("1.0000001", eur).is_none());
        assert!(Currency::parse("eur").is_none());
    }
}
