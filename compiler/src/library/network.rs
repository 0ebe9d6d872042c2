//! The network extension: IP addresses (`ip`, `isIP`, `ip.isCanonical` and the classification
//! methods) and CIDR prefixes (`cidr`, `containsIP`, `containsCIDR`, `ip`, `masked`,
//! `prefixLength`). Semantics follow cel-go's `ext.Network()`, which parses with Go's `netip`:
//! strict forms only (no leading zeros in IPv4, no zones), and the classifications look through
//! an IPv4-mapped IPv6 address to its IPv4 address.

use super::LibraryFn;
use crate::check::signature::{Function, Overload, P, Style, o};
use crate::ir::Func;
use crate::value::{EvalError, NetValue, Value};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NetworkFn {
    /// `ip(string)`, and `cidr.ip()`: one name, so one entry in the checker's table.
    Ip,
    IsIp,
    IsCanonical,
    Cidr,
    Family,
    IsUnspecified,
    IsLoopback,
    IsGlobalUnicast,
    IsLinkLocalMulticast,
    IsLinkLocalUnicast,
    ContainsIp,
    ContainsCidr,
    Masked,
    PrefixLength,
}

impl NetworkFn {
    const fn name(self) -> &'static str {
        match self {
            NetworkFn::Ip => "ip",
            NetworkFn::IsIp => "isIP",
            NetworkFn::IsCanonical => "ip.isCanonical",
            NetworkFn::Cidr => "cidr",
            NetworkFn::Family => "family",
            NetworkFn::IsUnspecified => "isUnspecified",
            NetworkFn::IsLoopback => "isLoopback",
            NetworkFn::IsGlobalUnicast => "isGlobalUnicast",
            NetworkFn::IsLinkLocalMulticast => "isLinkLocalMulticast",
            NetworkFn::IsLinkLocalUnicast => "isLinkLocalUnicast",
            NetworkFn::ContainsIp => "containsIP",
            NetworkFn::ContainsCidr => "containsCIDR",
            NetworkFn::Masked => "masked",
            NetworkFn::PrefixLength => "prefixLength",
        }
    }
}

const fn function(f: NetworkFn, style: Style, overloads: &'static [Overload]) -> Function {
    Function {
        name: f.name(),
        style,
        func: Func::Library(LibraryFn::Network(f)),
        overloads,
    }
}

const IP_TEST: &[Overload] = &[o(&[P::Ip], P::Bool)];

pub(crate) const FUNCTIONS: &[Function] = &[
    // The checker keys functions by name alone, so `ip(s)` and `c.ip()` share one entry; the
    // overloads keep each style to its own argument kind.
    function(
        NetworkFn::Ip,
        Style::Both,
        &[o(&[P::Str], P::Ip), o(&[P::Cidr], P::Ip)],
    ),
    function(NetworkFn::IsIp, Style::Global, &[o(&[P::Str], P::Bool)]),
    function(
        NetworkFn::IsCanonical,
        Style::Global,
        &[o(&[P::Str], P::Bool)],
    ),
    function(NetworkFn::Cidr, Style::Global, &[o(&[P::Str], P::Cidr)]),
    function(NetworkFn::Family, Style::Method, &[o(&[P::Ip], P::Int)]),
    function(NetworkFn::IsUnspecified, Style::Method, IP_TEST),
    function(NetworkFn::IsLoopback, Style::Method, IP_TEST),
    function(NetworkFn::IsGlobalUnicast, Style::Method, IP_TEST),
    function(NetworkFn::IsLinkLocalMulticast, Style::Method, IP_TEST),
    function(NetworkFn::IsLinkLocalUnicast, Style::Method, IP_TEST),
    function(
        NetworkFn::ContainsIp,
        Style::Method,
        &[
            o(&[P::Cidr, P::Ip], P::Bool),
            o(&[P::Cidr, P::Str], P::Bool),
        ],
    ),
    function(
        NetworkFn::ContainsCidr,
        Style::Method,
        &[
            o(&[P::Cidr, P::Cidr], P::Bool),
            o(&[P::Cidr, P::Str], P::Bool),
        ],
    ),
    function(NetworkFn::Masked, Style::Method, &[o(&[P::Cidr], P::Cidr)]),
    function(
        NetworkFn::PrefixLength,
        Style::Method,
        &[o(&[P::Cidr], P::Int)],
    ),
];

pub fn call(f: NetworkFn, args: &[Value]) -> Value {
    use NetValue::{Cidr, Ip};
    use Value::{Bool, Int, Net};
    match (f, args) {
        _ if let Some(err) = args.iter().find(|a| a.is_error()) => err.clone(),
        (NetworkFn::Ip, [Value::String(s)]) => result(parse_ip(s).map(|a| Net(Ip(a)))),
        (NetworkFn::Ip, [Net(Cidr(a, _))]) => Net(Ip(*a)),
        (NetworkFn::IsIp, [Value::String(s)]) => Bool(parse_ip(s).is_ok()),
        // The canonical form is the one the address prints as (RFC 5952 for IPv6: lower case,
        // the longest run of zero groups compressed).
        (NetworkFn::IsCanonical, [Value::String(s)]) => {
            result(parse_ip(s).map(|a| Bool(a.to_string() == s.as_ref())))
        }
        (NetworkFn::Cidr, [Value::String(s)]) => {
            result(parse_cidr(s).map(|(a, bits)| Net(Cidr(a, bits))))
        }
        (NetworkFn::Family, [Net(Ip(a))]) => Int(if a.is_ipv4() { 4 } else { 6 }),
        (NetworkFn::IsUnspecified, [Net(Ip(a))]) => Bool(a.is_unspecified()),
        (NetworkFn::IsLoopback, [Net(Ip(a))]) => Bool(a.to_canonical().is_loopback()),
        (NetworkFn::IsGlobalUnicast, [Net(Ip(a))]) => Bool(is_global_unicast(*a)),
        (NetworkFn::IsLinkLocalMulticast, [Net(Ip(a))]) => Bool(is_link_local_multicast(*a)),
        (NetworkFn::IsLinkLocalUnicast, [Net(Ip(a))]) => Bool(is_link_local_unicast(*a)),
        (NetworkFn::ContainsIp, [Net(Cidr(a, bits)), Net(Ip(ip))]) => {
            Bool(contains(*a, *bits, *ip, *bits))
        }
        (NetworkFn::ContainsIp, [Net(Cidr(a, bits)), Value::String(s)]) => {
            result(parse_ip(s).map(|ip| Bool(contains(*a, *bits, ip, *bits))))
        }
        (NetworkFn::ContainsCidr, [Net(Cidr(a, bits)), Net(Cidr(b, other))]) => {
            Bool(contains(*a, *bits, *b, *other))
        }
        (NetworkFn::ContainsCidr, [Net(Cidr(a, bits)), Value::String(s)]) => {
            result(parse_cidr(s).map(|(b, other)| Bool(contains(*a, *bits, b, other))))
        }
        (NetworkFn::Masked, [Net(Cidr(a, bits))]) => Net(Cidr(mask(*a, *bits), *bits)),
        (NetworkFn::PrefixLength, [Net(Cidr(_, bits))]) => Int(i64::from(*bits)),
        (f, args) => super::no_overload(f.name(), args),
    }
}

fn result(r: Result<Value, EvalError>) -> Value {
    r.unwrap_or_else(Value::error)
}

/// An address in the strict text forms that cel-go accepts.
fn parse_ip(s: &str) -> Result<IpAddr, EvalError> {
    // Zones name a host's interface, which means nothing to a policy evaluated elsewhere.
    if s.contains('%') {
        return Err(message("IP Address with zone value is not allowed"));
    }
    // The dotted IPv4-mapped form (`::ffff:1.2.3.4`) is refused, as in cel-go, while the
    // same address in hex groups (`::ffff:102:304`) is accepted; only the text can tell them
    // apart.
    if s.contains(':') && s.contains('.') {
        return Err(message("IPv4-mapped IPv6 address is not allowed"));
    }
    // Rust's parsers are as strict as Go's netip: no leading zeros, no shortened IPv4 forms.
    s.parse::<IpAddr>().map_err(|_| {
        message(&format!(
            "IP Address '{s}' parse error during conversion from string"
        ))
    })
}

/// `address/bits`, the address kept unmasked, as Go's `netip.ParsePrefix` reads it.
fn parse_cidr(s: &str) -> Result<(IpAddr, u8), EvalError> {
    let bad = || message("network address parse error during conversion from string");
    if s.contains('%') {
        return Err(message("CIDR with zone value is not allowed"));
    }
    let (address, bits) = s.rsplit_once('/').ok_or_else(bad)?;
    if address.contains(':') && address.contains('.') {
        return Err(message("IPv4-mapped IPv6 address is not allowed"));
    }
    let address: IpAddr = address.parse().map_err(|_| bad())?;
    // Decimal digits only, without a sign or a leading zero, which `u8::from_str` would take.
    let plain = !bits.is_empty()
        && bits.bytes().all(|b| b.is_ascii_digit())
        && (bits == "0" || !bits.starts_with('0'));
    let bits: u8 = if plain { bits.parse().ok() } else { None }.ok_or_else(bad)?;
    if bits > width(address) {
        return Err(bad());
    }
    Ok((address, bits))
}

fn message(text: &str) -> EvalError {
    EvalError::Message(text.to_string())
}

/// The number of bits in an address of this family.
fn width(a: IpAddr) -> u8 {
    if a.is_ipv4() { 32 } else { 128 }
}

/// The address with every bit past the first `bits` cleared.
fn mask(a: IpAddr, bits: u8) -> IpAddr {
    let keep = |width: u8| u32::from(width.saturating_sub(bits));
    match a {
        IpAddr::V4(v4) => {
            let m = u32::MAX.checked_shl(keep(32)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from_bits(v4.to_bits() & m))
        }
        IpAddr::V6(v6) => {
            let m = u128::MAX.checked_shl(keep(128)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & m))
        }
    }
}

/// Whether the prefix `a/bits` holds all of `b/other` (an address is a prefix of full length).
/// Families never mix: an IPv4 prefix holds no IPv6 address, not even an IPv4-mapped one, as
/// in Go's `netip.Prefix.Contains`.
fn contains(a: IpAddr, bits: u8, b: IpAddr, other: u8) -> bool {
    a.is_ipv4() == b.is_ipv4() && bits <= other && mask(a, bits) == mask(b, bits)
}

/// Go's `netip.Addr.IsGlobalUnicast`: anything but the unspecified, broadcast, loopback,
/// multicast and link-local addresses. Private ranges count as global, as they do in Go.
fn is_global_unicast(a: IpAddr) -> bool {
    let a = a.to_canonical();
    if let IpAddr::V4(v4) = a
        && v4.is_broadcast()
    {
        return false;
    }
    !a.is_unspecified() && !a.is_loopback() && !a.is_multicast() && !is_link_local_unicast(a)
}

/// 224.0.0.0/24, and IPv6 multicast of link-local scope (ff02::/16, whatever the flags).
fn is_link_local_multicast(a: IpAddr) -> bool {
    match a.to_canonical() {
        IpAddr::V4(v4) => matches!(v4.octets(), [224, 0, 0, _]),
        IpAddr::V6(v6) => matches!(v6.segments(), [first, ..] if first & 0xff0f == 0xff02),
    }
}

/// 169.254.0.0/16 and fe80::/10.
fn is_link_local_unicast(a: IpAddr) -> bool {
    match a.to_canonical() {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => matches!(v6.segments(), [first, ..] if first & 0xffc0 == 0xfe80),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::testing::checked_type;

    fn ip(s: &str) -> Value {
        call(NetworkFn::Ip, &[Value::string(s)])
    }

    fn cidr(s: &str) -> Value {
        call(NetworkFn::Cidr, &[Value::string(s)])
    }

    fn test(f: NetworkFn, s: &str) -> bool {
        call(f, &[ip(s)]) == Value::Bool(true)
    }

    #[test]
    fn parsing_is_strict() {
        for good in [
            "192.168.0.1",
            "0.0.0.0",
            "::",
            "2001:db8::68",
            "2001:DB8::68",
            "::ffff:c0a8:1",
        ] {
            assert!(!ip(good).is_error(), "{good}");
        }
        for bad in [
            "192.168.0.1.0",
            "192.168.000.1",
            "01.2.3.4",
            "1.2.3",
            "256.1.1.1",
            "2001:db8:::68",
            "1::2::3",
            "fe80::1%en0",
            "::ffff:192.168.0.1",
            "::1.2.3.4",
            " 1.2.3.4",
            "",
        ] {
            assert!(ip(bad).is_error(), "{bad}");
            assert_eq!(
                call(NetworkFn::IsIp, &[Value::string(bad)]),
                Value::Bool(false)
            );
        }
        for bad in [
            "192.168.0.0/",
            "192.168.0.0",
            "192.168.0.0/33",
            "192.168.0.0/024",
            "192.168.0.0/+24",
            "2001:db8::/129",
            "fe80::1%en0/24",
            "::ffff:192.168.0.1/24",
        ] {
            assert!(cidr(bad).is_error(), "{bad}");
        }
        assert_eq!(
            cidr("10.1.2.3/0"),
            Value::Net(NetValue::Cidr("10.1.2.3".parse().unwrap(), 0))
        );
    }

    #[test]
    fn canonical_text() {
        let canonical = |s: &str| call(NetworkFn::IsCanonical, &[Value::string(s)]);
        assert_eq!(canonical("127.0.0.1"), Value::Bool(true));
        assert_eq!(canonical("2001:db8::68"), Value::Bool(true));
        assert_eq!(canonical("2001:DB8::68"), Value::Bool(false));
        assert_eq!(canonical("2001:db8:0:0:0:0:0:68"), Value::Bool(false));
        assert!(canonical("127.0.0.1.0").is_error());
        assert_eq!(
            crate::value::ops::to_string(&cidr("2001:db8::/32")),
            Value::string("2001:db8::/32")
        );
    }

    #[test]
    fn containment_and_masking() {
        let contains_ip = |c: &str, a: &str| call(NetworkFn::ContainsIp, &[cidr(c), ip(a)]);
        let contains_cidr =
            |c: &str, d: &str| call(NetworkFn::ContainsCidr, &[cidr(c), Value::string(d)]);
        assert_eq!(
            contains_ip("192.168.0.0/24", "192.168.0.255"),
            Value::Bool(true)
        );
        assert_eq!(
            contains_ip("192.168.0.0/24", "192.168.1.0"),
            Value::Bool(false)
        );
        assert_eq!(contains_ip("0.0.0.0/0", "8.8.8.8"), Value::Bool(true));
        assert_eq!(contains_ip("::/0", "8.8.8.8"), Value::Bool(false));
        assert_eq!(
            contains_ip("192.168.0.0/24", "::ffff:c0a8:1"),
            Value::Bool(false)
        );
        assert_eq!(
            contains_ip("2001:db8::/32", "2001:db8:ffff::1"),
            Value::Bool(true)
        );
        assert_eq!(
            contains_cidr("10.0.0.0/8", "10.255.0.0/16"),
            Value::Bool(true)
        );
        assert_eq!(
            contains_cidr("10.0.0.0/8", "10.0.0.0/7"),
            Value::Bool(false)
        );
        assert_eq!(
            contains_cidr("10.0.0.0/8", "11.0.0.0/16"),
            Value::Bool(false)
        );
        assert!(contains_cidr("10.0.0.0/8", "10.0.0.0").is_error());
        assert_eq!(
            call(NetworkFn::Masked, &[cidr("192.168.7.9/20")]),
            cidr("192.168.0.0/20")
        );
        assert_eq!(
            call(NetworkFn::Masked, &[cidr("10.1.2.3/0")]),
            cidr("0.0.0.0/0")
        );
        assert_eq!(
            call(NetworkFn::Masked, &[cidr("2001:db8::1/128")]),
            cidr("2001:db8::1/128")
        );
        assert_eq!(
            call(NetworkFn::Masked, &[cidr("2001:db8:ab::/33")]),
            cidr("2001:db8::/33")
        );
        assert_eq!(call(NetworkFn::Ip, &[cidr("10.1.2.3/8")]), ip("10.1.2.3"));
        assert_eq!(
            call(NetworkFn::PrefixLength, &[cidr("10.1.2.3/8")]),
            Value::Int(8)
        );
    }

    #[test]
    fn classification() {
        assert!(test(NetworkFn::IsUnspecified, "0.0.0.0"));
        assert!(!test(NetworkFn::IsUnspecified, "::ffff:0:0"));
        assert!(test(NetworkFn::IsLoopback, "127.255.0.1"));
        assert!(test(NetworkFn::IsLoopback, "::ffff:7f00:1"));
        assert!(!test(NetworkFn::IsLoopback, "::2"));
        assert!(test(NetworkFn::IsGlobalUnicast, "10.0.0.1"));
        assert!(test(NetworkFn::IsGlobalUnicast, "fd00::1"));
        for not_global in [
            "0.0.0.0",
            "255.255.255.255",
            "127.0.0.1",
            "224.0.0.1",
            "169.254.1.1",
            "::",
            "::1",
            "ff00::1",
            "fe80::1",
        ] {
            assert!(
                !test(NetworkFn::IsGlobalUnicast, not_global),
                "{not_global}"
            );
        }
        assert!(test(NetworkFn::IsLinkLocalMulticast, "224.0.0.251"));
        assert!(!test(NetworkFn::IsLinkLocalMulticast, "224.0.1.1"));
        assert!(test(NetworkFn::IsLinkLocalMulticast, "ff12::1"));
        assert!(!test(NetworkFn::IsLinkLocalMulticast, "ff05::1"));
        assert!(test(NetworkFn::IsLinkLocalUnicast, "febf::1"));
        assert!(!test(NetworkFn::IsLinkLocalUnicast, "fec0::1"));
        assert_eq!(
            call(NetworkFn::Family, &[ip("::ffff:c0a8:1")]),
            Value::Int(6)
        );
        assert_eq!(call(NetworkFn::Family, &[ip("1.2.3.4")]), Value::Int(4));
    }

    #[test]
    fn equality_sees_through_ipv4_mapping() {
        let eq = |a: Value, b: Value| crate::value::ops::equals(&a, &b);
        assert_eq!(eq(ip("::ffff:c0a8:1"), ip("192.168.0.1")), Ok(true));
        assert_eq!(eq(ip("2001:db8::1"), ip("2001:DB8::1")), Ok(true));
        assert_eq!(eq(ip("::"), ip("::ffff")), Ok(false));
        assert_eq!(eq(cidr("10.0.0.1/8"), cidr("10.0.0.0/8")), Ok(false));
        assert_eq!(eq(ip("10.0.0.1"), cidr("10.0.0.1/32")), Ok(false));
    }

    fn checked_type_code(text: &str) -> Result<crate::types::Ty, Code> {
        checked_type(text).map_err(|(code, _)| code)
    }

    #[test]
    fn the_function_ip_and_the_namespace_ip_coexist() {
        use crate::types::Ty;
        assert_eq!(checked_type_code("ip('1.2.3.4')"), Ok(Ty::Ip));
        assert_eq!(checked_type_code("ip.isCanonical('1.2.3.4')"), Ok(Ty::Bool));
        assert_eq!(checked_type_code("cidr('10.0.0.0/8').ip()"), Ok(Ty::Ip));
        assert_eq!(
            checked_type_code("cidr('10.0.0.0/8').masked()"),
            Ok(Ty::Cidr)
        );
        assert_eq!(
            checked_type_code("type(ip('1.2.3.4')) == net.IP"),
            Ok(Ty::Bool)
        );
        assert_eq!(
            checked_type_code("isIP(cidr('10.0.0.0/8'))"),
            Err(Code::NoOverload)
        );
        assert_eq!(
            checked_type_code("'1.2.3.4'.family()"),
            Err(Code::NoOverload)
        );
        assert_eq!(
            checked_type_code("cidr('10.0.0.0/8').containsIP(1)"),
            Err(Code::NoOverload)
        );
    }

    #[test]
    fn values_survive_the_bundle_encoding() {
        for v in [ip("192.168.0.1"), ip("2001:db8::68"), cidr("10.1.0.0/16")] {
            let bytes = postcard::to_stdvec(&v).unwrap();
            assert_eq!(postcard::from_bytes::<Value>(&bytes).unwrap(), v);
        }
    }
}
