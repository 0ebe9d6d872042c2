//! Timestamps and durations: RFC 3339 and CEL duration text, range checks, and calendar fields in
//! a time zone (an IANA name from the tz database compiled into the binary, or a fixed offset).
//!
//! Calendar arithmetic is done here on plain integers rather than with `jiff::Timestamp`, whose
//! range stops a day short of CEL's `9999-12-31T23:59:59.999999999Z`; jiff only answers "what is
//! the UTC offset of this zone at this instant".

use super::{EvalError, Nanos};
use jiff::tz::{Offset, TimeZone, TimeZoneDatabase};
use serde::{Deserialize, Serialize};

pub const NANOS_PER_SECOND: Nanos = 1_000_000_000;
const NANOS_PER_MILLI: i128 = 1_000_000;
const SECONDS_PER_MINUTE: i128 = 60;
const SECONDS_PER_HOUR: i128 = 3_600;
const SECONDS_PER_DAY: i128 = 86_400;
const MINUTES_PER_DAY: i128 = 1_440;

/// `0001-01-01T00:00:00Z`, CEL's earliest timestamp.
pub const MIN_TIMESTAMP: Nanos = -62_135_596_800 * NANOS_PER_SECOND;
/// `9999-12-31T23:59:59.999999999Z`, CEL's latest timestamp.
pub const MAX_TIMESTAMP: Nanos = 253_402_300_799 * NANOS_PER_SECOND + 999_999_999;
/// The longest duration: 2^63 - 1 ns, about 292 years. The CEL conformance suite (like cel-go)
/// bounds durations by 64-bit nanoseconds: it requires the difference between the first and the
/// last timestamp to be a range error, which protobuf's wider ±10,000 years would make a value.
pub const MAX_DURATION: Nanos = i64::MAX as Nanos;
/// Symmetric with [`MAX_DURATION`], so that negating a duration never fails.
pub const MIN_DURATION: Nanos = -MAX_DURATION;

/// A calendar or clock field, as read by CEL's `getFullYear()` … `getMilliseconds()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimePart {
    FullYear,
    /// 0-based: January is 0.
    Month,
    /// 1-based day of the month.
    Date,
    /// 0-based day of the month.
    DayOfMonth,
    /// 0 is Sunday.
    DayOfWeek,
    /// 0-based: January 1 is 0.
    DayOfYear,
    Hours,
    Minutes,
    Seconds,
    Milliseconds,
}

impl TimePart {
    pub const ALL: [TimePart; 10] = [
        TimePart::FullYear,
        TimePart::Month,
        TimePart::Date,
        TimePart::DayOfMonth,
        TimePart::DayOfWeek,
        TimePart::DayOfYear,
        TimePart::Hours,
        TimePart::Minutes,
        TimePart::Seconds,
        TimePart::Milliseconds,
    ];

    /// The CEL method that reads this field, such as `getDayOfWeek`.
    pub fn method_name(self) -> &'static str {
        match self {
            TimePart::FullYear => "getFullYear",
            TimePart::Month => "getMonth",
            TimePart::Date => "getDate",
            TimePart::DayOfMonth => "getDayOfMonth",
            TimePart::DayOfWeek => "getDayOfWeek",
            TimePart::DayOfYear => "getDayOfYear",
            TimePart::Hours => "getHours",
            TimePart::Minutes => "getMinutes",
            TimePart::Seconds => "getSeconds",
            TimePart::Milliseconds => "getMilliseconds",
        }
    }

    pub fn from_method(name: &str) -> Option<TimePart> {
        TimePart::ALL
            .into_iter()
            .find(|part| part.method_name() == name)
    }

    /// Whether durations have this field too (CEL defines only the clock fields on them).
    pub fn applies_to_durations(self) -> bool {
        matches!(
            self,
            TimePart::Hours | TimePart::Minutes | TimePart::Seconds | TimePart::Milliseconds
        )
    }
}

pub fn check_timestamp(n: Nanos) -> Result<Nanos, EvalError> {
    if (MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&n) {
        Ok(n)
    } else {
        Err(EvalError::Range("timestamp out of range".into()))
    }
}

pub fn check_duration(n: Nanos) -> Result<Nanos, EvalError> {
    if (MIN_DURATION..=MAX_DURATION).contains(&n) {
        Ok(n)
    } else {
        Err(EvalError::Range("duration out of range".into()))
    }
}

/// Parses an RFC 3339 timestamp such as `2026-06-01T10:00:00Z`, `2026-06-01t12:00:00.5+02:00`:
/// four-digit year, `T` and `Z` in either case, at most nine fractional digits, no leap second.
pub fn parse_timestamp(text: &str) -> Result<Nanos, EvalError> {
    let invalid = || EvalError::InvalidArgument(format!("invalid RFC 3339 timestamp {text:?}"));
    let fields = Rfc3339::scan(text).ok_or_else(invalid)?;
    let nanos = fields.to_nanos().ok_or_else(invalid)?;
    check_timestamp(nanos)
}

/// RFC 3339 in UTC with `Z`, and a fraction only when it is not zero, in groups of three digits
/// as protobuf's JSON mapping prints it: `2009-02-13T23:31:30Z`, `2009-02-13T23:31:30.120Z`.
pub fn format_timestamp(n: Nanos) -> String {
    let c = Civil::at(n);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}Z",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        fraction(c.nanos, 3)
    )
}

/// Parses a CEL (Go-style) duration: an optional sign, then numbers with units, as in `1h30m`,
/// `1.5s`, `-2ms`, `250us`, or a bare `0`. Units: `ns`, `us` (`µs`), `ms`, `s`, `m`, `h`, and
/// Offer's `d` (24 h) and `w` (7 d). Fractions are exact to the nanosecond (truncated).
pub fn parse_duration(text: &str) -> Result<Nanos, EvalError> {
    let invalid = || EvalError::InvalidArgument(format!("invalid duration {text:?}"));
    let mut scan = Scanner::new(text);
    let negative = scan.eat(|b| b == b'+' || b == b'-') == Some(b'-');
    if scan.rest() == b"0" {
        return Ok(0);
    }
    if scan.is_empty() {
        return Err(invalid());
    }
    let mut total: Nanos = 0;
    while !scan.is_empty() {
        let whole = scan.digits(0, usize::MAX).ok_or_else(invalid)?;
        let frac = match scan.eat(|b| b == b'.') {
            Some(_) => scan.digits(0, MAX_FRACTION_DIGITS).ok_or_else(invalid)?,
            None => &[],
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(invalid());
        }
        let unit = unit_nanos(scan.unit()).ok_or_else(invalid)?;
        total = duration_term(whole, frac, unit)
            .and_then(|term| total.checked_add(term))
            .ok_or_else(|| EvalError::Range("duration out of range".into()))?;
    }
    check_duration(if negative { -total } else { total })
}

/// Seconds with an `s`, and a fraction only when it is not zero: `3600s`, `1.5s`,
/// `-0.000000001s` (the form of CEL's `string(duration)`).
pub fn format_duration(n: Nanos) -> String {
    let sign = if n < 0 { "-" } else { "" };
    let abs = n.unsigned_abs();
    let per_second = NANOS_PER_SECOND.unsigned_abs();
    let nanos = (abs % per_second) as u32;
    format!("{sign}{}{}s", abs / per_second, fraction(nanos, 1))
}

/// Whether `name` is a time zone that the accessors accept: an IANA name spelled as in the tz
/// database (`Europe/Helsinki`, `US/Central`, `UTC`), or a fixed offset such as `+05:30`.
pub fn valid_timezone(name: &str) -> bool {
    time_zone(name).is_ok()
}

/// The UTC offset of `tz` at the instant `at`, in seconds east of UTC.
pub fn tz_offset(tz: &str, at: Nanos) -> Result<i32, EvalError> {
    Ok(offset_at(&time_zone(tz)?, at).seconds())
}

/// A calendar or clock field of a timestamp, in UTC or in the zone `tz`, as CEL defines it.
pub fn timestamp_part(n: Nanos, part: TimePart, tz: Option<&str>) -> Result<i64, EvalError> {
    let c = Civil::at(local_nanos(n, tz)?);
    let value = match part {
        TimePart::FullYear => c.year,
        TimePart::Month => i128::from(c.month) - 1,
        TimePart::Date => i128::from(c.day),
        TimePart::DayOfMonth => i128::from(c.day) - 1,
        TimePart::DayOfWeek => c.weekday(),
        TimePart::DayOfYear => c.day_of_year(),
        TimePart::Hours => i128::from(c.hour),
        TimePart::Minutes => i128::from(c.minute),
        TimePart::Seconds => i128::from(c.second),
        TimePart::Milliseconds => i128::from(c.nanos) / NANOS_PER_MILLI,
    };
    i64::try_from(value).map_err(|_| EvalError::Range("timestamp out of range".into()))
}

/// A clock field of a duration, as CEL defines it: hours, minutes and seconds are the whole
/// duration in that unit (truncated toward zero); milliseconds are the part below one second.
pub fn duration_part(n: Nanos, part: TimePart) -> Result<i64, EvalError> {
    let value = match part {
        TimePart::Hours => n / (SECONDS_PER_HOUR * NANOS_PER_SECOND),
        TimePart::Minutes => n / (SECONDS_PER_MINUTE * NANOS_PER_SECOND),
        TimePart::Seconds => n / NANOS_PER_SECOND,
        TimePart::Milliseconds => n % NANOS_PER_SECOND / NANOS_PER_MILLI,
        _ => {
            return Err(EvalError::NoSuchOverload(format!(
                "{}(google.protobuf.Duration)",
                part.method_name()
            )));
        }
    };
    i64::try_from(value).map_err(|_| EvalError::Range("duration out of range".into()))
}

/// Minutes since local midnight (0..1440) at `n` in the zone `tz`, for quiet hours. Follows the
/// zone's daylight-saving rules: 06:00Z is 08:00 in Helsinki in winter and 09:00 in summer.
pub fn local_minute_of_day(n: Nanos, tz: &str) -> Result<u32, EvalError> {
    let local_seconds = local_nanos(n, Some(tz))?.div_euclid(NANOS_PER_SECOND);
    let minute = local_seconds
        .div_euclid(SECONDS_PER_MINUTE)
        .rem_euclid(MINUTES_PER_DAY);
    Ok(minute as u32)
}

/// A zone by IANA name or fixed offset. IANA names come from the database bundled into the
/// binary, so results do not depend on the host's tzdata and the compiler reads no files. Names
/// must be spelled as in the database (jiff would also accept other letter cases), so that one
/// zone has one name.
fn time_zone(name: &str) -> Result<TimeZone, EvalError> {
    let unknown = || EvalError::InvalidArgument(format!("unknown time zone {name:?}"));
    if let Some(seconds) = fixed_offset_seconds(name) {
        return Offset::from_seconds(seconds)
            .map(TimeZone::fixed)
            .map_err(|_| unknown());
    }
    match TimeZoneDatabase::bundled().get(name) {
        // `Etc/Unknown` is jiff's placeholder for an undetermined zone, not a real one.
        Ok(zone) if zone.iana_name() == Some(name) && !zone.is_unknown() => Ok(zone),
        _ => Err(unknown()),
    }
}

/// `+05:30`, `-08:00`, or `02:00` (CEL implementations accept the sign as optional).
fn fixed_offset_seconds(text: &str) -> Option<i32> {
    let mut scan = Scanner::new(text);
    let sign = match scan.eat(|b| b == b'+' || b == b'-') {
        Some(b'-') => -1,
        _ => 1,
    };
    let (hours, minutes) = scan.hours_minutes()?;
    scan.is_empty()
        .then_some(sign * (hours * 3_600 + minutes * 60))
}

/// The offset of `zone` at `at`. jiff's timestamps end a day before CEL's do (so that any offset
/// still gives a valid civil time); zones do not change their rules on the last day of year 9999,
/// so the offset at the clamped instant is the offset at `at`.
fn offset_at(zone: &TimeZone, at: Nanos) -> Offset {
    let min = jiff::Timestamp::MIN.as_nanosecond();
    let max = jiff::Timestamp::MAX.as_nanosecond();
    jiff::Timestamp::from_nanosecond(at.clamp(min, max))
        .map_or(Offset::UTC, |instant| zone.to_offset(instant))
}

/// The instant `n` shifted by the zone's offset, so that its UTC calendar fields are the local
/// ones. `n` is checked first: the calendar of an out-of-range timestamp is an error.
fn local_nanos(n: Nanos, tz: Option<&str>) -> Result<Nanos, EvalError> {
    let n = check_timestamp(n)?;
    let offset = match tz {
        Some(name) => i128::from(offset_at(&time_zone(name)?, n).seconds()),
        None => 0,
    };
    Ok(n + offset * NANOS_PER_SECOND)
}

/// Fractional seconds as `.ddd`, trimmed of trailing zeros in steps of `group` digits; empty when
/// there are no nanoseconds.
fn fraction(nanos: u32, group: usize) -> String {
    if nanos == 0 {
        return String::new();
    }
    let mut digits = format!("{nanos:09}");
    let zeros = digits.bytes().rev().take_while(|&b| b == b'0').count();
    digits.truncate(9 - zeros / group * group);
    format!(".{digits}")
}

/// More fractional digits than this cannot change a nanosecond count exactly computed in `i128`
/// (the largest unit is a week, 6.048e14 ns), so a longer fraction is rejected, not rounded.
const MAX_FRACTION_DIGITS: usize = 18;

fn unit_nanos(unit: &[u8]) -> Option<Nanos> {
    let seconds = |s: i128| s * NANOS_PER_SECOND;
    Some(match unit {
        b"ns" => 1,
        b"us" => 1_000,
        _ if unit == "µs".as_bytes() || unit == "μs".as_bytes() => 1_000,
        b"ms" => NANOS_PER_MILLI,
        b"s" => seconds(1),
        b"m" => seconds(SECONDS_PER_MINUTE),
        b"h" => seconds(SECONDS_PER_HOUR),
        b"d" => seconds(SECONDS_PER_DAY),
        b"w" => seconds(7 * SECONDS_PER_DAY),
        _ => return None,
    })
}

/// `whole.frac` units in nanoseconds, truncated; `None` on overflow.
fn duration_term(whole: &[u8], frac: &[u8], unit: Nanos) -> Option<Nanos> {
    let whole = decimal(whole)?.checked_mul(unit)?;
    let scale = 10i128.checked_pow(u32::try_from(frac.len()).ok()?)?;
    let frac = decimal(frac)?.checked_mul(unit)? / scale;
    whole.checked_add(frac)
}

/// The value of a run of ASCII digits (0 for none); `None` on overflow.
fn decimal(digits: &[u8]) -> Option<i128> {
    digits.iter().try_fold(0i128, |acc, &d| {
        acc.checked_mul(10)?.checked_add(i128::from(d - b'0'))
    })
}

/// A cursor over the bytes of the small grammars of this module.
struct Scanner<'a> {
    rest: &'a [u8],
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            rest: text.as_bytes(),
        }
    }

    fn rest(&self) -> &'a [u8] {
        self.rest
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Consumes one byte if `accept` likes it.
    fn eat(&mut self, accept: impl Fn(u8) -> bool) -> Option<u8> {
        let (&first, rest) = self.rest.split_first()?;
        accept(first).then(|| {
            self.rest = rest;
            first
        })
    }

    fn expect(&mut self, wanted: u8) -> Option<()> {
        self.eat(|b| b == wanted).map(drop)
    }

    /// Consumes the run of ASCII digits; `None` if it is shorter than `min` or longer than `max`.
    fn digits(&mut self, min: usize, max: usize) -> Option<&'a [u8]> {
        let len = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let (digits, rest) = self.rest.split_at_checked(len)?;
        if len < min || len > max {
            return None;
        }
        self.rest = rest;
        Some(digits)
    }

    /// Exactly `n` digits, as a number.
    fn number(&mut self, n: usize) -> Option<i32> {
        decimal(self.digits(n, n)?).and_then(|v| i32::try_from(v).ok())
    }

    /// `HH:MM` with hours below 24 and minutes below 60.
    fn hours_minutes(&mut self) -> Option<(i32, i32)> {
        let hours = self.number(2)?;
        self.expect(b':')?;
        let minutes = self.number(2)?;
        (hours < 24 && minutes < 60).then_some((hours, minutes))
    }

    /// The run of bytes up to the next digit or `.`: a duration unit.
    fn unit(&mut self) -> &'a [u8] {
        let len = self
            .rest
            .iter()
            .take_while(|&&b| !b.is_ascii_digit() && b != b'.')
            .count();
        let (unit, rest) = self.rest.split_at_checked(len).unwrap_or((self.rest, &[]));
        self.rest = rest;
        unit
    }
}

/// The fields of an RFC 3339 timestamp, scanned but not yet validated.
struct Rfc3339 {
    year: i32,
    month: i32,
    day: i32,
    hour: i32,
    minute: i32,
    second: i32,
    nanos: i32,
    offset_seconds: i32,
}

impl Rfc3339 {
    fn scan(text: &str) -> Option<Rfc3339> {
        let mut scan = Scanner::new(text);
        let year = scan.number(4)?;
        scan.expect(b'-')?;
        let month = scan.number(2)?;
        scan.expect(b'-')?;
        let day = scan.number(2)?;
        scan.eat(|b| b.eq_ignore_ascii_case(&b'T'))?;
        let (hour, minute) = scan.hours_minutes()?;
        scan.expect(b':')?;
        let second = scan.number(2)?;
        let nanos = match scan.eat(|b| b == b'.') {
            Some(_) => {
                let digits = scan.digits(1, 9)?;
                let scale = 10i32.pow(9 - digits.len() as u32);
                i32::try_from(decimal(digits)?).ok()? * scale
            }
            None => 0,
        };
        let offset_seconds = match scan.eat(|b| matches!(b, b'Z' | b'z' | b'+' | b'-'))? {
            b'Z' | b'z' => 0,
            sign => {
                let (hours, minutes) = scan.hours_minutes()?;
                let seconds = hours * 3_600 + minutes * 60;
                if sign == b'-' { -seconds } else { seconds }
            }
        };
        scan.is_empty().then_some(Rfc3339 {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            offset_seconds,
        })
    }

    /// Nanoseconds since the epoch, or `None` for a day or time that does not exist.
    fn to_nanos(&self) -> Option<Nanos> {
        let month = u32::try_from(self.month)
            .ok()
            .filter(|m| (1..=12).contains(m))?;
        let year = i128::from(self.year);
        let day = u32::try_from(self.day)
            .ok()
            .filter(|&d| d >= 1 && d <= days_in_month(year, month))?;
        if self.second > 59 {
            return None;
        }
        let seconds = days_from_civil(year, month, day) * SECONDS_PER_DAY
            + i128::from(self.hour) * SECONDS_PER_HOUR
            + i128::from(self.minute) * SECONDS_PER_MINUTE
            + i128::from(self.second)
            - i128::from(self.offset_seconds);
        Some(seconds * NANOS_PER_SECOND + i128::from(self.nanos))
    }
}

/// A proleptic Gregorian calendar date and time of day (of UTC, or of local time after
/// [`local_nanos`]). Total for any `i128`, so that formatting never fails.
struct Civil {
    /// Days since 1970-01-01.
    days: i128,
    year: i128,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
}

impl Civil {
    fn at(n: Nanos) -> Civil {
        let seconds = n.div_euclid(NANOS_PER_SECOND);
        let days = seconds.div_euclid(SECONDS_PER_DAY);
        let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            days,
            year,
            month,
            day,
            hour: second_of_day / 3_600,
            minute: second_of_day / 60 % 60,
            second: second_of_day % 60,
            nanos: n.rem_euclid(NANOS_PER_SECOND) as u32,
        }
    }

    /// 0 is Sunday; 1970-01-01 was a Thursday.
    fn weekday(&self) -> i128 {
        (self.days + 4).rem_euclid(7)
    }

    fn day_of_year(&self) -> i128 {
        self.days - days_from_civil(self.year, 1, 1)
    }
}

fn is_leap_year(year: i128) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i128, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`: years
/// start in March so that the leap day is last, and 400-year eras repeat exactly).
fn days_from_civil(year: i128, month: u32, day: u32) -> i128 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i128::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i128::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i128) -> (i128, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = (if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    }) as u32;
    let year = year_of_era + era * 400 + i128::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SECOND: Nanos = NANOS_PER_SECOND;

    fn ts(text: &str) -> Nanos {
        parse_timestamp(text).unwrap()
    }

    #[test]
    fn range_constants_are_the_documented_instants() {
        assert_eq!(format_timestamp(MIN_TIMESTAMP), "0001-01-01T00:00:00Z");
        assert_eq!(
            format_timestamp(MAX_TIMESTAMP),
            "9999-12-31T23:59:59.999999999Z"
        );
        assert_eq!(ts("0001-01-01T00:00:00Z"), MIN_TIMESTAMP);
        assert_eq!(ts("9999-12-31T23:59:59.999999999Z"), MAX_TIMESTAMP);
        assert_eq!(format_duration(MAX_DURATION), "9223372036.854775807s");
        assert_eq!(format_duration(MIN_DURATION), "-9223372036.854775807s");
    }

    #[test]
    fn parses_rfc3339() {
        let cases: &[(&str, Nanos)] = &[
            ("1970-01-01T00:00:00Z", 0),
            ("2009-02-13T23:31:30Z", 1_234_567_890 * SECOND),
            ("2009-02-13t23:31:30z", 1_234_567_890 * SECOND),
            ("2009-02-14T01:31:30+02:00", 1_234_567_890 * SECOND),
            ("2009-02-13T22:01:30-01:30", 1_234_567_890 * SECOND),
            (
                "2009-02-13T23:31:30.5Z",
                1_234_567_890 * SECOND + 500_000_000,
            ),
            ("2009-02-13T23:31:30.000000001Z", 1_234_567_890 * SECOND + 1),
            ("1969-12-31T23:59:59.999999999Z", -1),
            ("2000-02-29T00:00:00Z", 951_782_400 * SECOND),
            ("2004-09-16T23:59:59Z", 1_095_379_199 * SECOND),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_timestamp(text), Ok(*expected), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for text in [
            "",
            "2009-02-13",
            "2009-02-13T23:31:30",
            "2009-02-13 23:31:30Z",
            "09-02-13T23:31:30Z",
            "2009-2-13T23:31:30Z",
            "2009-02-13T23:31:30.Z",
            "2009-02-13T23:31:30.1234567890Z",
            "2009-02-13T23:31:30+0200",
            "2009-02-13T23:31:30+24:00",
            "2009-02-13T23:31:30Zjunk",
            "2009-13-01T00:00:00Z",
            "2009-00-01T00:00:00Z",
            "2009-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2009-04-31T00:00:00Z",
            "2009-02-13T24:00:00Z",
            "2009-02-13T23:60:00Z",
            "2016-12-31T23:59:60Z",
            "+2009-02-13T23:31:30Z",
            "２００９-02-13T23:31:30Z",
        ] {
            assert!(
                matches!(parse_timestamp(text), Err(EvalError::InvalidArgument(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn timestamps_outside_years_1_to_9999_are_range_errors() {
        for text in [
            "0000-01-01T00:00:00Z",
            "0000-12-31T23:59:59.999999999Z",
            "0001-01-01T00:00:00+00:01",
            "9999-12-31T23:59:59-00:01",
        ] {
            assert!(
                matches!(parse_timestamp(text), Err(EvalError::Range(_))),
                "{text}"
            );
        }
        assert!(check_timestamp(MAX_TIMESTAMP + 1).is_err());
        assert!(check_timestamp(MIN_TIMESTAMP - 1).is_err());
    }

    #[test]
    fn formats_timestamps_like_protobuf_json() {
        let cases: &[(Nanos, &str)] = &[
            (0, "1970-01-01T00:00:00Z"),
            (1_234_567_890 * SECOND, "2009-02-13T23:31:30Z"),
            (
                1_234_567_890 * SECOND + 123_000_000,
                "2009-02-13T23:31:30.123Z",
            ),
            (
                1_234_567_890 * SECOND + 120_000_000,
                "2009-02-13T23:31:30.120Z",
            ),
            (
                1_234_567_890 * SECOND + 123_400_000,
                "2009-02-13T23:31:30.123400Z",
            ),
            (1_234_567_890 * SECOND + 1, "2009-02-13T23:31:30.000000001Z"),
            (-1, "1969-12-31T23:59:59.999999999Z"),
            (951_782_400 * SECOND, "2000-02-29T00:00:00Z"),
        ];
        for (n, text) in cases {
            assert_eq!(format_timestamp(*n), *text);
            assert_eq!(parse_timestamp(text), Ok(*n), "round trip of {text}");
        }
    }

    #[test]
    fn civil_conversion_round_trips_every_day_of_the_range() {
        let first = days_from_civil(1, 1, 1);
        let last = days_from_civil(9999, 12, 31);
        let mut expected = (1, 1, 1);
        for days in first..=last {
            let (year, month, day) = civil_from_days(days);
            assert_eq!((year, month, day), expected, "day {days}");
            assert_eq!(days_from_civil(year, month, day), days);
            expected = if day < days_in_month(year, month) {
                (year, month, day + 1)
            } else if month < 12 {
                (year, month + 1, 1)
            } else {
                (year + 1, 1, 1)
            };
        }
    }

    #[test]
    fn formatting_never_panics_out_of_range() {
        for n in [i128::MIN, i128::MAX, MIN_TIMESTAMP - 1, MAX_TIMESTAMP + 1] {
            assert!(!format_timestamp(n).is_empty());
            assert!(!format_duration(n).is_empty());
        }
    }

    #[test]
    fn parses_durations() {
        let cases: &[(&str, Nanos)] = &[
            ("0", 0),
            ("-0", 0),
            ("0s", 0),
            ("1s", SECOND),
            ("+1s", SECOND),
            ("-2s", -2 * SECOND),
            ("1.5s", 1_500_000_000),
            (".5s", 500_000_000),
            ("1.s", SECOND),
            ("1h30m", 5_400 * SECOND),
            ("1h30m15s", 5_415 * SECOND),
            ("1.5h", 5_400 * SECOND),
            ("100ms", 100_000_000),
            ("250us", 250_000),
            ("250µs", 250_000),
            ("250μs", 250_000),
            ("999999999ns", 999_999_999),
            ("-999999999ns", -999_999_999),
            ("1d", 86_400 * SECOND),
            ("1w", 604_800 * SECOND),
            ("2w3d", 17 * 86_400 * SECOND),
            ("0.000000001s", 1),
            ("0.0000000019s", 1),
            ("1000000s", 1_000_000 * SECOND),
            ("9223372036.854775807s", MAX_DURATION),
            ("-9223372036.854775807s", MIN_DURATION),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text), Ok(*expected), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_durations() {
        for text in [
            "",
            "-",
            "+",
            "s",
            "1",
            "10",
            "1x",
            "1 s",
            "1s ",
            " 1s",
            "1h-30m",
            ".s",
            "1..5s",
            "1S",
            "1sec",
            "1.5",
            "0.0000000000000000001s",
        ] {
            assert!(
                matches!(parse_duration(text), Err(EvalError::InvalidArgument(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn durations_beyond_64_bit_nanoseconds_are_range_errors() {
        for text in [
            "320000000000s",
            "-320000000000s",
            "9223372036.854775808s",
            "106752d",
            "99999999999999999999999999999999999999999999h",
        ] {
            assert!(
                matches!(parse_duration(text), Err(EvalError::Range(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn formats_durations_like_cel() {
        let cases: &[(Nanos, &str)] = &[
            (0, "0s"),
            (3_600 * SECOND, "3600s"),
            (1_500_000_000, "1.5s"),
            (-1, "-0.000000001s"),
            (-1_500_000_000, "-1.5s"),
            (1_000_000 * SECOND, "1000000s"),
            (123_321_456_789, "123.321456789s"),
        ];
        for (n, text) in cases {
            assert_eq!(format_duration(*n), *text);
            assert_eq!(parse_duration(text), Ok(*n), "round trip of {text}");
        }
    }

    #[test]
    fn timestamp_parts_in_utc_and_zones() {
        let t = ts("2009-02-13T23:31:30Z");
        let cases: &[(TimePart, Option<&str>, i64)] = &[
            (TimePart::Date, None, 13),
            (TimePart::DayOfMonth, None, 12),
            (TimePart::DayOfWeek, None, 5),
            (TimePart::DayOfYear, None, 43),
            (TimePart::FullYear, None, 2009),
            (TimePart::Hours, None, 23),
            (TimePart::Minutes, None, 31),
            (TimePart::Month, None, 1),
            (TimePart::Seconds, None, 30),
            (TimePart::Milliseconds, None, 0),
            (TimePart::Date, Some("Australia/Sydney"), 14),
            (TimePart::DayOfMonth, Some("US/Central"), 12),
            (TimePart::DayOfMonth, Some("+11:00"), 13),
            (TimePart::DayOfWeek, Some("UTC"), 5),
            (TimePart::DayOfYear, Some("US/Central"), 43),
            (TimePart::FullYear, Some("-09:30"), 2009),
            (TimePart::Hours, Some("02:00"), 1),
            (TimePart::Minutes, Some("Asia/Kathmandu"), 16),
            (TimePart::Month, Some("UTC"), 1),
            (TimePart::Seconds, Some("-00:00"), 30),
        ];
        for (part, tz, expected) in cases {
            assert_eq!(
                timestamp_part(t, *part, *tz),
                Ok(*expected),
                "{part:?} {tz:?}"
            );
        }
        let early = ts("2009-02-13T02:00:00Z");
        assert_eq!(
            timestamp_part(early, TimePart::DayOfMonth, Some("-02:30")),
            Ok(11)
        );
        assert_eq!(
            timestamp_part(early, TimePart::DayOfMonth, Some("America/St_Johns")),
            Ok(11)
        );
        let millis = ts("2009-02-13T23:31:20.123456789Z");
        assert_eq!(
            timestamp_part(millis, TimePart::Milliseconds, None),
            Ok(123)
        );
    }

    #[test]
    fn calendar_fields_at_the_range_ends() {
        assert_eq!(
            timestamp_part(MIN_TIMESTAMP, TimePart::FullYear, None),
            Ok(1)
        );
        assert_eq!(
            timestamp_part(MIN_TIMESTAMP, TimePart::DayOfWeek, None),
            Ok(1)
        );
        assert_eq!(
            timestamp_part(MAX_TIMESTAMP, TimePart::DayOfYear, None),
            Ok(364)
        );
        assert_eq!(
            timestamp_part(MAX_TIMESTAMP, TimePart::DayOfWeek, None),
            Ok(5)
        );
        // The local calendar may leave years 1..=9999; that is still a value, not an error.
        assert_eq!(
            timestamp_part(MAX_TIMESTAMP, TimePart::FullYear, Some("+01:00")),
            Ok(10000)
        );
        assert_eq!(
            timestamp_part(MAX_TIMESTAMP, TimePart::Hours, Some("Asia/Tokyo")),
            Ok(8)
        );
        assert_eq!(
            timestamp_part(MIN_TIMESTAMP, TimePart::FullYear, Some("-01:00")),
            Ok(0)
        );
        assert!(timestamp_part(MAX_TIMESTAMP + 1, TimePart::FullYear, None).is_err());
    }

    #[test]
    fn leap_days_and_weekdays() {
        let leap = ts("2024-02-29T12:00:00Z");
        assert_eq!(timestamp_part(leap, TimePart::Month, None), Ok(1));
        assert_eq!(timestamp_part(leap, TimePart::Date, None), Ok(29));
        assert_eq!(timestamp_part(leap, TimePart::DayOfWeek, None), Ok(4));
        let new_years_eve = ts("2024-12-31T00:00:00Z");
        assert_eq!(
            timestamp_part(new_years_eve, TimePart::DayOfYear, None),
            Ok(365)
        );
        let sunday = ts("2026-05-31T10:00:00Z");
        assert_eq!(timestamp_part(sunday, TimePart::DayOfWeek, None), Ok(0));
    }

    #[test]
    fn unknown_zones_are_errors() {
        let t = ts("2009-02-13T23:31:30Z");
        for tz in [
            "Mars/Olympus",
            "",
            "europe/helsinki",
            "+5:30",
            "+24:00",
            "+05:60",
            "05:30:00",
            "Z",
            "Etc/Unknown",
        ] {
            assert!(!valid_timezone(tz), "{tz:?}");
            assert!(
                matches!(
                    timestamp_part(t, TimePart::Hours, Some(tz)),
                    Err(EvalError::InvalidArgument(_))
                ),
                "{tz:?}"
            );
            assert!(local_minute_of_day(t, tz).is_err());
        }
        for tz in [
            "Europe/Helsinki",
            "America/Los_Angeles",
            "UTC",
            "US/Central",
            "+05:30",
        ] {
            assert!(valid_timezone(tz), "{tz}");
        }
    }

    #[test]
    fn local_minute_follows_helsinki_daylight_saving() {
        // EET (+02:00) until 2026-03-29T01:00Z, EEST (+03:00) until 2026-10-25T01:00Z.
        let cases: &[(&str, u32)] = &[
            ("2026-03-29T00:59:00Z", 2 * 60 + 59),
            ("2026-03-29T01:00:00Z", 4 * 60),
            ("2026-06-01T06:00:00Z", 9 * 60),
            ("2026-10-25T00:59:00Z", 3 * 60 + 59),
            ("2026-10-25T01:00:00Z", 3 * 60),
            ("2026-12-01T06:00:00Z", 8 * 60),
            ("2026-06-01T21:30:00Z", 30),
        ];
        for (text, minute) in cases {
            assert_eq!(
                local_minute_of_day(ts(text), "Europe/Helsinki"),
                Ok(*minute),
                "{text}"
            );
        }
        assert_eq!(
            tz_offset("Europe/Helsinki", ts("2026-01-01T00:00:00Z")),
            Ok(7_200)
        );
        assert_eq!(
            tz_offset("Europe/Helsinki", ts("2026-07-01T00:00:00Z")),
            Ok(10_800)
        );
        assert_eq!(tz_offset("-08:00", 0), Ok(-28_800));
        assert_eq!(
            local_minute_of_day(ts("2026-06-01T23:59:59Z"), "UTC"),
            Ok(1_439)
        );
        assert_eq!(
            local_minute_of_day(ts("2026-06-01T00:00:00Z"), "-00:30"),
            Ok(1_410)
        );
    }

    #[test]
    fn duration_parts_are_totals_except_milliseconds() {
        let d = parse_duration("123.321456789s").unwrap();
        assert_eq!(duration_part(d, TimePart::Milliseconds), Ok(321));
        assert_eq!(duration_part(-d, TimePart::Milliseconds), Ok(-321));
        assert_eq!(duration_part(10_000 * SECOND, TimePart::Hours), Ok(2));
        assert_eq!(duration_part(3_730 * SECOND, TimePart::Minutes), Ok(62));
        assert_eq!(duration_part(3_730 * SECOND, TimePart::Seconds), Ok(3_730));
        assert_eq!(duration_part(-3_730 * SECOND, TimePart::Hours), Ok(-1));
        assert!(matches!(
            duration_part(SECOND, TimePart::FullYear),
            Err(EvalError::NoSuchOverload(_))
        ));
    }

    #[test]
    fn time_parts_have_method_names() {
        for part in TimePart::ALL {
            assert_eq!(TimePart::from_method(part.method_name()), Some(part));
        }
        assert_eq!(TimePart::from_method("getYear"), None);
        assert!(TimePart::Hours.applies_to_durations());
        assert!(!TimePart::DayOfWeek.applies_to_durations());
    }
}
