//! Decoding of literal text (numbers, strings and bytes with CEL escapes, durations, money,
//! timestamps) into values, with messages that say what is wrong.

use crate::syntax::ast::Literal;
use crate::value::money::{Currency, Money};
use crate::value::time;

/// Decodes an integer literal (decimal or `0x` hex); `negative` folds a leading minus so that
/// `-9223372036854775808` is representable.
pub fn int(text: &str, negative: bool) -> Result<i64, String> {
    let magnitude = unsigned_magnitude(text)?;
    let value = if negative {
        -(magnitude as i128)
    } else {
        magnitude as i128
    };
    i64::try_from(value).map_err(|_| {
        format!(
            "integer literal `{}{text}` is out of range",
            if negative { "-" } else { "" }
        )
    })
}

pub fn uint(text: &str) -> Result<u64, String> {
    let digits = text.trim_end_matches(['u', 'U']);
    let magnitude = unsigned_magnitude(digits)?;
    u64::try_from(magnitude).map_err(|_| format!("unsigned literal `{text}` is out of range"))
}

fn unsigned_magnitude(text: &str) -> Result<u128, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u128::from_str_radix(hex, 16),
        None => text.parse::<u128>(),
    };
    parsed.map_err(|_| format!("integer literal `{text}` is out of range"))
}

pub fn double(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .map_err(|_| format!("invalid number `{text}`"))
}

pub fn duration(text: &str) -> Result<i128, String> {
    time::parse_duration(text).map_err(|e| format!("invalid duration `{text}`: {e}"))
}

pub fn timestamp(text: &str) -> Result<i128, String> {
    time::parse_timestamp(text).map_err(|e| format!("invalid timestamp `{text}`: {e}"))
}

pub fn money(text: &str) -> Result<Money, String> {
    let mut parts = text.split_whitespace();
    let (Some(amount), Some(code)) = (parts.next(), parts.next()) else {
        return Err(format!("invalid money literal `{text}`"));
    };
    let upper = code.to_ascii_uppercase();
    let currency = match Currency::parse(code) {
        Some(c) => c,
        None if upper != code && Currency::parse(&upper).is_some() => {
            return Err(format!(
                "currency codes are upper case: write `{amount} {upper}`"
            ));
        }
        None => {
            return Err(format!(
                "`{code}` is not an ISO 4217 currency code such as `EUR` or `USD`"
            ));
        }
    };
    Money::parse_amount(amount, currency)
        .ok_or_else(|| format!("money amount `{amount}` needs at most six decimals and must fit"))
}

/// Decodes a string or bytes literal with its prefix (`r`, `b`, `rb`...) and quotes.
pub fn string_or_bytes(text: &str) -> Result<Literal, String> {
    let prefix_len = text
        .find(['"', '\''])
        .ok_or("string literal without quotes")?;
    let (prefix, quoted) = text.split_at(prefix_len);
    let raw = prefix.contains(['r', 'R']);
    let bytes = prefix.contains(['b', 'B']);
    let quote_len = if quoted.starts_with("\"\"\"") || quoted.starts_with("'''") {
        3
    } else {
        1
    };
    let body = quoted
        .get(quote_len..quoted.len().saturating_sub(quote_len))
        .ok_or("unterminated string literal")?;
    let decoded = if raw {
        body.as_bytes().to_vec()
    } else {
        unescape(body, bytes)?
    };
    if bytes {
        Ok(Literal::Bytes(decoded))
    } else {
        String::from_utf8(decoded)
            .map(Literal::String)
            .map_err(|_| "string literal is not valid UTF-8".to_string())
    }
}

/// CEL escapes: `\a \b \f \n \r \t \v \\ \' \" \` \?`, `\xHH`, octal `\ooo`, `\uHHHH`,
/// `\UHHHHHHHH`. In strings, `\x` and octal escapes name code points; in bytes, single bytes.
fn unescape(body: &str, bytes: bool) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let esc = chars.next().ok_or("a string cannot end with a lone `\\`")?;
        let simple = match esc {
            'a' => Some(0x07),
            'b' => Some(0x08),
            'f' => Some(0x0c),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(0x0b),
            '\\' => Some(b'\\'),
            '\'' => Some(b'\''),
            '"' => Some(b'"'),
            '`' => Some(b'`'),
            '?' => Some(b'?'),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            continue;
        }
        let (digits, radix) = match esc {
            'x' | 'X' => (2, 16),
            'u' if !bytes => (4, 16),
            'U' if !bytes => (8, 16),
            '0'..='3' => (2, 8),
            other => return Err(format!("unknown escape `\\{other}`")),
        };
        let mut code: u32 = if radix == 8 {
            esc.to_digit(8).unwrap_or(0)
        } else {
            0
        };
        for _ in 0..digits {
            let d = chars
                .next()
                .and_then(|ch| ch.to_digit(radix))
                .ok_or_else(|| format!("escape `\\{esc}` needs {digits} more digits"))?;
            code = code * radix + d;
        }
        if bytes && matches!(esc, 'x' | 'X' | '0'..='3') {
            out.push(u8::try_from(code).map_err(|_| "byte escape out of range")?);
        } else {
            let ch = char::from_u32(code)
                .ok_or_else(|| format!("escape `\\{esc}` names an invalid code point {code:#x}"))?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_bytes() {
        assert_eq!(
            string_or_bytes(r#""a\nb""#).unwrap(),
            Literal::String("a\nb".into())
        );
        assert_eq!(
            string_or_bytes(r#"r"a\nb""#).unwrap(),
            Literal::String("a\\nb".into())
        );
        assert_eq!(
            string_or_bytes(r#"b"\xff\000""#).unwrap(),
            Literal::Bytes(vec![0xff, 0])
        );
        assert_eq!(
            string_or_bytes(r#""\u00e9""#).unwrap(),
            Literal::String("é".into())
        );
        assert_eq!(
            string_or_bytes(r#""\303\251""#).unwrap(),
            Literal::String("Ã©".into())
        );
        assert_eq!(
            string_or_bytes("'''a'b'''").unwrap(),
            Literal::String("a'b".into())
        );
        assert!(string_or_bytes(r#""\q""#).is_err());
        assert!(string_or_bytes(r#""\ud800""#).is_err());
    }

    #[test]
    fn integers() {
        assert_eq!(int("9223372036854775808", true), Ok(i64::MIN));
        assert!(int("9223372036854775808", false).is_err());
        assert_eq!(int("0x1F", false), Ok(31));
        assert_eq!(uint("18446744073709551615u"), Ok(u64::MAX));
        assert!(uint("18446744073709551616u").is_err());
    }
}
