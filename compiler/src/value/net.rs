//! IP addresses and CIDR prefixes, the values of CEL's network extension (`net.IP`,
//! `net.CIDR`). Parsing and the functions on them are in [`crate::library::network`]; this is
//! the value itself, its text form and its CEL equality.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NetValue {
    Ip(IpAddr),
    /// An address and a prefix length, the address kept as written (not masked), so that
    /// `cidr('10.1.2.3/8').ip()` gives back `10.1.2.3`.
    Cidr(IpAddr, u8),
}

impl NetValue {
    /// CEL equality. An IPv4-mapped IPv6 address equals its IPv4 address
    /// (`ip('::ffff:c0a8:1') == ip('192.168.0.1')`), as the conformance suite requires; prefixes
    /// compare as written, because the prefix length means different things in the two families.
    pub fn cel_equals(&self, other: &NetValue) -> bool {
        match (self, other) {
            (NetValue::Ip(a), NetValue::Ip(b)) => a.to_canonical() == b.to_canonical(),
            (NetValue::Cidr(a, n), NetValue::Cidr(b, m)) => a == b && n == m,
            _ => false,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            NetValue::Ip(_) => "net.IP",
            NetValue::Cidr(..) => "net.CIDR",
        }
    }

    /// The text `string(x)` gives: `192.168.0.1`, `2001:db8::/32`.
    pub fn text(&self) -> String {
        match self {
            NetValue::Ip(a) => a.to_string(),
            NetValue::Cidr(a, bits) => format!("{a}/{bits}"),
        }
    }
}

/// As the value would be written in an expression.
impl fmt::Display for NetValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetValue::Ip(_) => write!(f, "ip({:?})", self.text()),
            NetValue::Cidr(..) => write!(f, "cidr({:?})", self.text()),
        }
    }
}
