//! The strings extension, as cel-go defines it: the string methods (`charAt`, `indexOf`,
//! `lastIndexOf`, `lowerAscii`, `upperAscii`, `trim`, `reverse`, `substring`, `replace`,
//! `split`, `join` on a list of strings), `format` with printf-like clauses, and
//! `strings.quote`. Indexes and lengths count code points, not bytes.

use super::LibraryFn;
use crate::check::signature::{Function, Overload, P, Style, o};
use crate::eval::MAX_VALUE_BYTES;
use crate::ir::Func;
use crate::types::Ty;
use crate::value::{EvalError, Value, ops, quoted, time};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StringFn {
    CharAt,
    IndexOf,
    LastIndexOf,
    LowerAscii,
    UpperAscii,
    Trim,
    Reverse,
    Substring,
    Replace,
    Split,
    Join,
    Format,
    Quote,
}

const fn method(name: &'static str, f: StringFn, overloads: &'static [Overload]) -> Function {
    Function {
        name,
        style: Style::Method,
        func: Func::Library(LibraryFn::Strings(f)),
        overloads,
    }
}

pub(crate) const FUNCTIONS: &[Function] = &[
    method("charAt", StringFn::CharAt, &[o(&[P::Str, P::Int], P::Str)]),
    method(
        "indexOf",
        StringFn::IndexOf,
        &[
            o(&[P::Str, P::Str], P::Int),
            o(&[P::Str, P::Str, P::Int], P::Int),
        ],
    ),
    method(
        "lastIndexOf",
        StringFn::LastIndexOf,
        &[
            o(&[P::Str, P::Str], P::Int),
            o(&[P::Str, P::Str, P::Int], P::Int),
        ],
    ),
    method("lowerAscii", StringFn::LowerAscii, &[o(&[P::Str], P::Str)]),
    method("upperAscii", StringFn::UpperAscii, &[o(&[P::Str], P::Str)]),
    method("trim", StringFn::Trim, &[o(&[P::Str], P::Str)]),
    // One name, one entry: the lists extension's `reverse` is an overload here, and a list
    // value goes to it at run time.
    method(
        "reverse",
        StringFn::Reverse,
        &[o(&[P::Str], P::Str), o(&[P::AnyList], P::SameList)],
    ),
    method(
        "substring",
        StringFn::Substring,
        &[
            o(&[P::Str, P::Int], P::Str),
            o(&[P::Str, P::Int, P::Int], P::Str),
        ],
    ),
    method(
        "replace",
        StringFn::Replace,
        &[
            o(&[P::Str, P::Str, P::Str], P::Str),
            o(&[P::Str, P::Str, P::Str, P::Int], P::Str),
        ],
    ),
    method(
        "split",
        StringFn::Split,
        &[
            o(&[P::Str, P::Str], P::StrList),
            o(&[P::Str, P::Str, P::Int], P::StrList),
        ],
    ),
    method(
        "join",
        StringFn::Join,
        &[o(&[P::StrList], P::Str), o(&[P::StrList, P::Str], P::Str)],
    ),
    method(
        "format",
        StringFn::Format,
        &[o(&[P::Str, P::AnyList], P::Str)],
    ),
    Function {
        name: "strings.quote",
        style: Style::Global,
        func: Func::Library(LibraryFn::Strings(StringFn::Quote)),
        overloads: &[o(&[P::Str], P::Str)],
    },
];

impl StringFn {
    fn name(self) -> &'static str {
        match self {
            StringFn::CharAt => "charAt",
            StringFn::IndexOf => "indexOf",
            StringFn::LastIndexOf => "lastIndexOf",
            StringFn::LowerAscii => "lowerAscii",
            StringFn::UpperAscii => "upperAscii",
            StringFn::Trim => "trim",
            StringFn::Reverse => "reverse",
            StringFn::Substring => "substring",
            StringFn::Replace => "replace",
            StringFn::Split => "split",
            StringFn::Join => "join",
            StringFn::Format => "format",
            StringFn::Quote => "strings.quote",
        }
    }
}

/// A strings function on evaluated arguments. The shapes are matched exactly, so that a call
/// the checker could not type (dynamic mode) fails here with "no such overload".
pub fn call(f: StringFn, args: &[Value]) -> Value {
    use StringFn::*;
    use Value::{Int, List, String as Str};
    if let Some(err) = args.iter().find(|a| a.is_error()) {
        return err.clone();
    }
    let result = match (f, args) {
        (CharAt, [Str(s), Int(i)]) => char_at(s, *i),
        (IndexOf, [Str(s), Str(sub)]) => index_of(s, sub, 0),
        (IndexOf, [Str(s), Str(sub), Int(start)]) => index_of(s, sub, *start),
        (LastIndexOf, [Str(s), Str(sub)]) => last_index_of(s, sub, None),
        (LastIndexOf, [Str(s), Str(sub), Int(start)]) => last_index_of(s, sub, Some(*start)),
        (LowerAscii, [Str(s)]) => Ok(Value::string(s.to_ascii_lowercase())),
        (UpperAscii, [Str(s)]) => Ok(Value::string(s.to_ascii_uppercase())),
        // Rust's white space is Unicode's White_Space property, the set Go's unicode.IsSpace
        // (which cel-go trims) also uses.
        (Trim, [Str(s)]) => Ok(Value::string(s.trim())),
        (Reverse, [Str(s)]) => Ok(Value::string(s.chars().rev().collect::<String>())),
        (Reverse, [List(items)]) => Ok(Value::list(items.iter().rev().cloned().collect())),
        (Substring, [Str(s), Int(start)]) => substring(s, *start, None),
        (Substring, [Str(s), Int(start), Int(end)]) => substring(s, *start, Some(*end)),
        (Replace, [Str(s), Str(old), Str(new)]) => Ok(replace(s, old, new, -1)),
        (Replace, [Str(s), Str(old), Str(new), Int(n)]) => Ok(replace(s, old, new, *n)),
        (Split, [Str(s), Str(sep)]) => Ok(split(s, sep, -1)),
        (Split, [Str(s), Str(sep), Int(n)]) => Ok(split(s, sep, *n)),
        (Join, [List(items)]) => join(items, "").ok_or_else(|| no_overload(f, args)),
        (Join, [List(items), Str(sep)]) => join(items, sep).ok_or_else(|| no_overload(f, args)),
        (Format, [Str(template), List(items)]) => format(template, items),
        // As cel-go quotes: control characters other than the named escapes stay as they are.
        (Quote, [Str(s)]) => Ok(Value::string(quoted(s, false))),
        _ => Err(no_overload(f, args)),
    };
    result.unwrap_or_else(Value::error)
}

fn no_overload(f: StringFn, args: &[Value]) -> EvalError {
    let kinds: Vec<&str> = args.iter().map(Value::type_name).collect();
    EvalError::NoSuchOverload(format!("{}({})", f.name(), kinds.join(", ")))
}

type Outcome = Result<Value, EvalError>;

fn char_at(s: &str, i: i64) -> Outcome {
    let at = byte_offset(s, i)?;
    let c = s.get(at..).and_then(|rest| rest.chars().next());
    Ok(Value::string(c.map(String::from).unwrap_or_default()))
}

/// The code-point index of the first occurrence at or after `start`, or -1.
fn index_of(s: &str, sub: &str, start: i64) -> Outcome {
    let from = byte_offset(s, start)?;
    let found = s
        .get(from..)
        .and_then(|rest| rest.find(sub))
        .map(|at| from + at);
    Ok(position(s, found))
}

/// The code-point index of the last occurrence that begins at or before `start` (default: the
/// end), or -1.
fn last_index_of(s: &str, sub: &str, start: Option<i64>) -> Outcome {
    let start = start.unwrap_or_else(|| i64::try_from(s.chars().count()).unwrap_or(i64::MAX));
    let from = byte_offset(s, start)?;
    // A match is whole code points, so it ends on a char boundary at or before this.
    let end = s.floor_char_boundary(from.saturating_add(sub.len()));
    Ok(position(s, s.get(..end).and_then(|head| head.rfind(sub))))
}

/// Code points `start..end` (`end` defaults to the end).
fn substring(s: &str, start: i64, end: Option<i64>) -> Outcome {
    let from = byte_offset(s, start)?;
    let to = match end {
        Some(end) => byte_offset(s, end)?,
        None => s.len(),
    };
    s.get(from..to).map(Value::string).ok_or_else(|| {
        let end = end.map_or_else(String::new, |e| e.to_string());
        EvalError::InvalidArgument(format!(
            "invalid substring range. start: {start}, end: {end}"
        ))
    })
}

/// Replaces the first `n` occurrences (all when `n` is negative); an empty `old` matches before
/// every code point and at the end.
fn replace(s: &str, old: &str, new: &str, n: i64) -> Value {
    // The size is known before the string is built, so a replacement that would grow past the
    // limit fails without allocating it.
    let found = if old.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(old).count()
    };
    let count = usize::try_from(n).map_or(found, |n| n.min(found));
    let size = (s.len() - count * old.len()).saturating_add(count.saturating_mul(new.len()));
    if size > MAX_VALUE_BYTES {
        return too_large("replace");
    }
    Value::string(match usize::try_from(n) {
        Ok(n) => s.replacen(old, new, n),
        Err(_) => s.replace(old, new),
    })
}

fn too_large(what: &str) -> Value {
    Value::error(EvalError::InvalidArgument(format!(
        "{what} would build a string of more than {MAX_VALUE_BYTES} bytes"
    )))
}

/// At most `n` parts (all when `n` is negative, none when it is 0); an empty separator splits
/// into code points.
fn split(s: &str, sep: &str, n: i64) -> Value {
    // A list costs about 32 bytes an element: bound the parts by the value limit.
    let max = usize::try_from(n)
        .unwrap_or(usize::MAX)
        .min(MAX_VALUE_BYTES / 32 + 1);
    let parts: Vec<&str> = match (max, sep.is_empty()) {
        (0, _) => Vec::new(),
        (_, true) => split_code_points(s, max),
        (_, false) => s.splitn(max, sep).collect(),
    };
    Value::list(parts.into_iter().map(Value::string).collect())
}

/// One part per code point, the last part taking the rest once there are `max` parts.
fn split_code_points(s: &str, max: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if parts.len() + 1 == max {
            parts.push(rest);
            break;
        }
        let (head, tail) = rest.split_at(c.len_utf8());
        parts.push(head);
        rest = tail;
    }
    parts
}

/// The strings of `items` joined, or `None` if one of them is not a string.
fn join(items: &[Value], sep: &str) -> Option<Value> {
    let parts: Option<Vec<&str>> = items
        .iter()
        .map(|v| match v {
            Value::String(s) => Some(&**s),
            _ => None,
        })
        .collect();
    let parts = parts?;
    let size = parts
        .iter()
        .fold(sep.len().saturating_mul(parts.len()), |n, p| {
            n.saturating_add(p.len())
        });
    if size > MAX_VALUE_BYTES {
        return Some(too_large("join"));
    }
    Some(Value::string(parts.join(sep)))
}

/// The byte offset of code point `index` of `s`, where `size(s)` (the end) is allowed.
fn byte_offset(s: &str, index: i64) -> Result<usize, EvalError> {
    usize::try_from(index)
        .ok()
        .and_then(|i| s.char_indices().map(|(b, _)| b).chain([s.len()]).nth(i))
        .ok_or_else(|| EvalError::IndexOutOfRange(index.to_string()))
}

/// A byte offset found in `s` as a code-point index, or -1 for none.
fn position(s: &str, found: Option<usize>) -> Value {
    let index = found.and_then(|b| s.get(..b)).map_or(-1, |head| {
        i64::try_from(head.chars().count()).unwrap_or(i64::MAX)
    });
    Value::Int(index)
}

/// A bound on `%.Nf` and `%.Ne`, so that a template cannot ask for a string of any size.
const MAX_PRECISION: usize = 1000;

/// `template.format(args)`: `%%` is a percent sign; every other `%` starts a clause, an
/// optional precision (`.3`) then a verb, which takes the next argument:
///
/// - `%s` any value CEL can print (lists and maps recursively, map entries sorted by key text),
/// - `%d` an integer (or a NaN or infinite double, printed as such),
/// - `%f`, `%e` a number in fixed-point or scientific notation (precision 6 by default),
/// - `%b`, `%o`, `%x`, `%X` an integer in base 2, 8 or 16; `%b` also takes a bool and `%x` a
///   string or bytes (their bytes in hex).
fn format(template: &str, args: &[Value]) -> Outcome {
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    let mut next = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.next_if_eq(&'%').is_some() {
            out.push('%');
            continue;
        }
        let precision = match chars.next_if_eq(&'.') {
            Some(_) => {
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                match digits.parse::<usize>() {
                    Ok(p) if p <= MAX_PRECISION => Some(p),
                    _ => {
                        return Err(clause_error(format!(
                            "precision must be a number from 0 to {MAX_PRECISION}"
                        )));
                    }
                }
            }
            None => None,
        };
        let Some(verb) = chars.next() else {
            return Err(clause_error("unexpected end of string".into()));
        };
        let Some(clause) = Clause::of(verb) else {
            return Err(clause_error(format!(
                "unrecognized formatting clause \"{verb}\""
            )));
        };
        let arg = args
            .get(next)
            .ok_or_else(|| EvalError::Message(format!("index {next} out of range")))?;
        next += 1;
        if clause == Clause::String && printed_size(arg, MAX_VALUE_BYTES) > MAX_VALUE_BYTES {
            return Err(EvalError::InvalidArgument(format!(
                "format would build a string of more than {MAX_VALUE_BYTES} bytes"
            )));
        }
        let text = clause
            .text(arg, precision)
            .map_err(|e| EvalError::Message(format!("error during formatting: {e}")))?;
        out.push_str(&text);
        if out.len() > MAX_VALUE_BYTES {
            return Err(EvalError::InvalidArgument(format!(
                "format would build a string of more than {MAX_VALUE_BYTES} bytes"
            )));
        }
    }
    Ok(Value::string(out))
}

/// About how long `%s` prints `v`, counted no further than `limit`: a list of a million
/// copies of one long string is cheap to hold and enormous to print.
fn printed_size(v: &Value, limit: usize) -> usize {
    match v {
        Value::String(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::List(items) => {
            let mut n = 2;
            for item in items.iter() {
                n += 2 + printed_size(item, limit - n.min(limit));
                if n > limit {
                    break;
                }
            }
            n
        }
        Value::Map(m) => {
            let mut n = 2;
            for (k, item) in m.entries.iter() {
                n += 4 + printed_size(&k.to_value(), limit) + printed_size(item, limit);
                if n > limit {
                    break;
                }
            }
            n
        }
        _ => 32,
    }
}

fn clause_error(reason: String) -> EvalError {
    EvalError::Message(format!("could not parse formatting clause: {reason}"))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Clause {
    String,
    Decimal,
    Fixed,
    Scientific,
    Binary,
    Octal,
    Hex { upper: bool },
}

impl Clause {
    fn of(verb: char) -> Option<Clause> {
        Some(match verb {
            's' => Clause::String,
            'd' => Clause::Decimal,
            'f' => Clause::Fixed,
            'e' => Clause::Scientific,
            'b' => Clause::Binary,
            'o' => Clause::Octal,
            'x' => Clause::Hex { upper: false },
            'X' => Clause::Hex { upper: true },
            _ => return None,
        })
    }

    /// `arg` as this clause prints it, or why the clause does not take it.
    fn text(self, arg: &Value, precision: Option<usize>) -> Result<String, String> {
        let p = precision.unwrap_or(6);
        let number = match arg {
            Value::Int(i) => Some(*i as f64),
            Value::Uint(u) => Some(*u as f64),
            Value::Double(d) => Some(*d),
            _ => None,
        };
        Ok(match (self, arg) {
            (Clause::String, v) => string_clause(v)?,
            (Clause::Decimal, Value::Int(i)) => i.to_string(),
            (Clause::Decimal, Value::Uint(u)) => u.to_string(),
            (Clause::Decimal, Value::Double(d)) if !d.is_finite() => non_finite(*d).into(),
            (Clause::Fixed | Clause::Scientific, _) if let Some(d) = number => {
                if !d.is_finite() {
                    non_finite(d).into()
                } else if let Clause::Fixed = self {
                    format!("{d:.p$}")
                } else {
                    scientific(d, p)
                }
            }
            (Clause::Binary, Value::Bool(b)) => u8::from(*b).to_string(),
            (Clause::Binary, Value::Int(i)) => format!("{}{:b}", sign(*i), i.unsigned_abs()),
            (Clause::Binary, Value::Uint(u)) => format!("{u:b}"),
            (Clause::Octal, Value::Int(i)) => format!("{}{:o}", sign(*i), i.unsigned_abs()),
            (Clause::Octal, Value::Uint(u)) => format!("{u:o}"),
            (Clause::Hex { upper }, Value::Int(i)) => {
                cased(format!("{}{:x}", sign(*i), i.unsigned_abs()), upper)
            }
            (Clause::Hex { upper }, Value::Uint(u)) => cased(format!("{u:x}"), upper),
            (Clause::Hex { upper }, Value::String(s)) => hex(s.as_bytes(), upper),
            (Clause::Hex { upper }, Value::Bytes(b)) => hex(b, upper),
            _ => return Err(format!("{}, was given {}", self.takes(), arg.type_name())),
        })
    }

    /// What the clause takes, in cel-go's words.
    fn takes(self) -> &'static str {
        match self {
            Clause::String => {
                "string clause can only be used on strings, bools, bytes, ints, doubles, maps, \
                 lists, types, durations, timestamps, money and timezones"
            }
            Clause::Decimal => "decimal clause can only be used on integers",
            Clause::Fixed => "fixed-point clause can only be used on doubles",
            Clause::Scientific => "scientific clause can only be used on doubles",
            Clause::Binary => "only integers and bools can be formatted as binary",
            Clause::Octal => "octal clause can only be used on integers",
            Clause::Hex { .. } => {
                "only integers, byte buffers, and strings can be formatted as hex"
            }
        }
    }
}

/// Go prints the sign of a negative number before its digits in any base, not its two's
/// complement.
fn sign(i: i64) -> &'static str {
    if i < 0 { "-" } else { "" }
}

fn cased(digits: String, upper: bool) -> String {
    if upper {
        digits.to_ascii_uppercase()
    } else {
        digits
    }
}

fn hex(bytes: &[u8], upper: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = if upper {
            write!(out, "{b:02X}")
        } else {
            write!(out, "{b:02x}")
        };
    }
    out
}

/// NaN and the infinities as CEL spells them (`double("Infinity")`), whatever the clause.
fn non_finite(d: f64) -> &'static str {
    if d.is_nan() {
        "NaN"
    } else if d > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// Go's `%e`: the exponent signed and of at least two digits (`1.052033e+03`), where Rust
/// writes `1.052033e3`.
fn scientific(d: f64, precision: usize) -> String {
    let rust = format!("{d:.precision$e}");
    let (mantissa, exponent) = rust.split_once('e').unwrap_or((&rust, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let exponent_sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{exponent_sign}{:02}", exponent.unsigned_abs())
}

/// A value as `%s` prints it: strings and bytes bare, containers recursively.
fn string_clause(v: &Value) -> Result<String, String> {
    Ok(match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Double(d) if !d.is_finite() => non_finite(*d).into(),
        Value::Double(d) => ops::format_double(*d),
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => s.to_owned(),
            Err(_) => return Err("invalid UTF-8 in bytes".into()),
        },
        Value::Timestamp(n) => time::format_timestamp(*n),
        Value::Duration(n) => time::format_duration(*n),
        // Offer's own scalars print as `string(x)` prints them.
        Value::Money(m) => m.to_string(),
        Value::Timezone(z) => z.to_string(),
        Value::Net(n) => n.to_string(),
        Value::Type(t) => type_name(t),
        Value::List(items) => {
            let parts: Result<Vec<String>, String> = items.iter().map(string_clause).collect();
            format!("[{}]", parts?.join(", "))
        }
        Value::Map(m) => {
            // cel-go sorts the entries by the text of their keys, so that the output does
            // not depend on the map's order.
            let mut entries = m
                .entries
                .iter()
                .map(|(k, v)| Ok((string_clause(&k.to_value())?, string_clause(v)?)))
                .collect::<Result<Vec<(String, String)>, String>>()?;
            entries.sort();
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Enum(_) | Value::Record(_) | Value::Optional(_) | Value::Error(_) => {
            return Err(format!(
                "{}, was given {}",
                Clause::String.takes(),
                v.type_name()
            ));
        }
    })
}

/// A type by its CEL name: `list`, not `list<dyn>`; the well-known types by their full names.
fn type_name(t: &Ty) -> String {
    match t {
        Ty::Timestamp => "google.protobuf.Timestamp".into(),
        Ty::Duration => "google.protobuf.Duration".into(),
        Ty::List(_) => "list".into(),
        Ty::Map(_, _) => "map".into(),
        Ty::Optional(_) => "optional_type".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{dur, i, list, map, s, ts};
    use StringFn::*;
    use std::sync::Arc;

    /// The text of a format call, or its error message.
    fn fmt(template: &str, args: &[Value]) -> Result<String, String> {
        match call(Format, &[s(template), list(args)]) {
            Value::String(out) => Ok(out.to_string()),
            Value::Error(e) => Err(e.to_string()),
            other => panic!("format gave {other}"),
        }
    }

    #[track_caller]
    fn kind(v: &Value) -> std::mem::Discriminant<EvalError> {
        match v {
            Value::Error(e) => std::mem::discriminant(e.as_ref()),
            other => panic!("expected an error, got {other}"),
        }
    }

    #[test]
    fn methods_count_code_points() {
        let cases: &[(StringFn, &[Value], Value)] = &[
            (CharAt, &[s("tacocat"), i(3)], s("o")),
            (CharAt, &[s("tacocat"), i(7)], s("")),
            (CharAt, &[s("©αT"), i(1)], s("α")),
            (IndexOf, &[s("tacocat"), s("")], i(0)),
            (IndexOf, &[s("tacocat"), s("ac")], i(1)),
            (IndexOf, &[s("tacocat"), s("none")], i(-1)),
            (IndexOf, &[s("tacocat"), s("a"), i(3)], i(5)),
            (IndexOf, &[s("ta©o©αT"), s("©αT"), i(3)], i(4)),
            (IndexOf, &[s("ta©o©αT"), s("©α"), i(5)], i(-1)),
            (LastIndexOf, &[s(""), s("@@")], i(-1)),
            (LastIndexOf, &[s("tacocat"), s("")], i(7)),
            (LastIndexOf, &[s("ta©o©αT"), s("©")], i(4)),
            (LastIndexOf, &[s("ta©o©αT"), s("©α"), i(4)], i(4)),
            (LastIndexOf, &[s("bananananana"), s("nana"), i(7)], i(6)),
            (LowerAscii, &[s("TacoCÆt Xii")], s("tacocÆt xii")),
            (UpperAscii, &[s("tacoCαt")], s("TACOCαT")),
            (Trim, &[s(" \u{c}\n\r\t\u{b}text  ")], s("text")),
            (
                Trim,
                &[s("\u{85}\u{a0}\u{1680}text\u{2028}\u{202f}\u{3000}")],
                s("text"),
            ),
            // Not white space in Unicode, so kept.
            (
                Trim,
                &[s("\u{180e}text\u{200b}\u{feff}")],
                s("\u{180e}text\u{200b}\u{feff}"),
            ),
            (Reverse, &[s("Ta©oCαt")], s("tαCo©aT")),
            (Substring, &[s("tacocat"), i(4)], s("cat")),
            (Substring, &[s("ta©o©αT"), i(2), i(6)], s("©o©α")),
            (Replace, &[s("{0} a {0}"), s("{0}"), s("2")], s("2 a 2")),
            (
                Replace,
                &[s("{0} a {0}"), s("{0}"), s("2"), i(1)],
                s("2 a {0}"),
            ),
            (Replace, &[s("ab"), s(""), s("-")], s("-a-b-")),
            (Replace, &[s("aaa"), s("a"), s("b"), i(-1)], s("bbb")),
            (
                Split,
                &[s("a b c"), s(" "), i(2)],
                list(&[s("a"), s("b c")]),
            ),
            (Split, &[s("a b"), s(" "), i(0)], list(&[])),
            (Split, &[s("a©c"), s("")], list(&[s("a"), s("©"), s("c")])),
            (Split, &[s("a©c"), s(""), i(2)], list(&[s("a"), s("©c")])),
            (Split, &[s(""), s(",")], list(&[s("")])),
            (Join, &[list(&[s("x"), s("y")])], s("xy")),
            (Join, &[list(&[s("x"), s("y")]), s("-")], s("x-y")),
        ];
        for (f, args, expected) in cases {
            assert_eq!(&call(*f, args), expected, "{f:?}{args:?}");
        }
    }

    #[test]
    fn wrong_shapes_are_no_overload_and_errors_pass_through() {
        let no_overload = std::mem::discriminant(&EvalError::NoSuchOverload(String::new()));
        let cases: &[(StringFn, &[Value])] = &[
            (CharAt, &[i(42), i(2)]),
            (CharAt, &[s("hello"), Value::Bool(true)]),
            (IndexOf, &[s("42"), s("4"), s("0")]),
            (IndexOf, &[s("42"), s("4"), i(0), i(1)]),
            (
                Replace,
                &[s("42"), s("2"), s("1"), i(1), Value::Bool(false)],
            ),
            (Split, &[s("42"), s("2"), i(1), i(1)]),
            (Substring, &[s("hello"), i(1), i(2), i(3)]),
            (Join, &[list(&[s("x"), i(1)])]),
            (Format, &[s("%d"), i(1)]),
            (Quote, &[i(1)]),
        ];
        for (f, args) in cases {
            assert_eq!(kind(&call(*f, args)), no_overload, "{f:?}{args:?}");
        }
        let unbound = Value::error(EvalError::Unbound("x".into()));
        assert_eq!(call(IndexOf, &[s("abc"), s("b"), unbound.clone()]), unbound);
        let out_of_range = std::mem::discriminant(&EvalError::IndexOutOfRange(String::new()));
        for args in [&[s("tacocat"), i(30)], &[s("tacocat"), i(-1)]] {
            assert_eq!(kind(&call(CharAt, args)), out_of_range);
            assert_eq!(kind(&call(Substring, args)), out_of_range);
        }
        assert!(call(Substring, &[s("tacocat"), i(4), i(3)]).is_error());
    }

    #[test]
    fn format_verbs() {
        let cases: &[(&str, &[Value], &str)] = &[
            ("%% and %%", &[], "% and %"),
            ("%%%s%%", &[s("text")], "%text%"),
            ("%d %s", &[i(-7), s("x")], "-7 x"),
            ("%d", &[Value::Uint(u64::MAX)], "18446744073709551615"),
            ("%d", &[Value::Double(f64::NAN)], "NaN"),
            ("%f", &[Value::Double(2.5)], "2.500000"),
            ("%.3f", &[Value::Double(1.2345)], "1.234"),
            ("%.0f", &[Value::Double(2.5)], "2"),
            ("%.0f", &[Value::Double(1.5)], "2"),
            ("%.5f", &[Value::Double(-1.2)], "-1.20000"),
            ("%f", &[i(2)], "2.000000"),
            ("%f", &[Value::Double(f64::NEG_INFINITY)], "-Infinity"),
            ("%e", &[Value::Double(2.5)], "2.500000e+00"),
            ("%.6e", &[Value::Double(1052.032911275)], "1.052033e+03"),
            ("%.2e", &[Value::Double(-0.000123)], "-1.23e-04"),
            ("%e", &[Value::Uint(3)], "3.000000e+00"),
            ("%e", &[Value::Double(f64::INFINITY)], "Infinity"),
            ("%b", &[i(5)], "101"),
            ("%b", &[i(-5)], "-101"),
            ("%b", &[Value::Bool(true)], "1"),
            ("%o", &[i(11)], "13"),
            ("%o", &[Value::Uint(65535)], "177777"),
            ("%x", &[i(30)], "1e"),
            ("%X", &[i(-30)], "-1E"),
            ("%x", &[Value::Uint(500)], "1f4"),
            ("%x", &[s("Hello world!")], "48656c6c6f20776f726c6421"),
            (
                "%X",
                &[Value::Bytes(b"byte string"[..].into())],
                "6279746520737472696E67",
            ),
        ];
        for (template, args, expected) in cases {
            assert_eq!(fmt(template, args).as_deref(), Ok(*expected), "{template}");
        }
    }

    #[test]
    fn format_s_prints_any_cel_value() {
        let nested = list(&[
            s("abc"),
            Value::Double(3.25),
            Value::Null,
            list(&[i(9), i(8)]),
            ts("2023-02-03T23:31:20Z"),
            Value::Double(f64::INFINITY),
        ]);
        assert_eq!(
            fmt("%s", &[nested]).as_deref(),
            Ok("[abc, 3.25, null, [9, 8], 2023-02-03T23:31:20Z, Infinity]")
        );
        let keyed = map(&[
            (s("strKey"), s("x")),
            (i(6), dur("422s")),
            (Value::Bool(true), Value::Uint(42)),
        ]);
        assert_eq!(
            fmt("%s", &[keyed]).as_deref(),
            Ok("{6: 422s, strKey: x, true: 42}")
        );
        assert_eq!(
            fmt(
                "%s %s %s",
                &[
                    Value::Bytes(b"xyz"[..].into()),
                    dur("1h45m47s"),
                    Value::Double(1e21)
                ]
            )
            .as_deref(),
            Ok("xyz 6347s 1e+21")
        );
        assert_eq!(
            fmt(
                "%s %s",
                &[
                    Value::Type(Arc::new(Ty::String)),
                    Value::Type(Arc::new(Ty::list(Ty::Int)))
                ]
            )
            .as_deref(),
            Ok("string list")
        );
    }

    #[test]
    fn format_errors_name_the_clause_and_the_kind_given() {
        let cases: &[(&str, &[Value], &str)] = &[
            (
                "%a",
                &[i(1)],
                "could not parse formatting clause: unrecognized formatting clause \"a\"",
            ),
            (
                "%E",
                &[Value::Double(0.5)],
                "could not parse formatting clause: unrecognized formatting clause \"E\"",
            ),
            ("%d %d %d", &[i(0), i(1)], "index 2 out of range"),
            (
                "100%",
                &[],
                "could not parse formatting clause: unexpected end of string",
            ),
            (
                "%b",
                &[s("abc")],
                "error during formatting: only integers and bools can be formatted as binary, \
                 was given string",
            ),
            (
                "%d",
                &[dur("30m2s")],
                "error during formatting: decimal clause can only be used on integers, \
                 was given google.protobuf.Duration",
            ),
            (
                "%x",
                &[Value::Double(0.5)],
                "error during formatting: only integers, byte buffers, and strings can be \
                 formatted as hex, was given double",
            ),
            (
                "%f",
                &[Value::Null],
                "error during formatting: fixed-point clause can only be used on doubles, \
                 was given null_type",
            ),
            (
                "%o",
                &[Value::Null],
                "error during formatting: octal clause can only be used on integers, \
                 was given null_type",
            ),
        ];
        for (template, args, expected) in cases {
            assert_eq!(fmt(template, args), Err(expected.to_string()), "{template}");
        }
        assert!(fmt("%s", &[list(&[i(1), Value::Optional(None)])]).is_err());
        assert!(fmt("%.99999f", &[Value::Double(1.0)]).is_err());
    }

    #[test]
    fn quote_escapes_what_a_literal_needs() {
        let cases = [
            ("", r#""""#),
            ("verbatim", r#""verbatim""#),
            ("first\nsecond", r#""first\nsecond""#),
            ("\u{7}\u{8}\u{c}\r\t\u{b}", r#""\a\b\f\r\t\v""#),
            ("ends with \\", r#""ends with \\""#),
            ("mid \" quote", r#""mid \" quote""#),
            ("single 'quote'", r#""single 'quote'""#),
            ("ta©o©αT😀", "\"ta©o©αT😀\""),
            // Other control characters stay as they are, as in cel-go.
            ("\u{1}", "\"\u{1}\""),
        ];
        for (text, expected) in cases {
            assert_eq!(call(Quote, &[s(text)]), s(expected), "{text:?}");
        }
    }
}
