//! CEL's extension libraries (encoders, lists and sets, math, network, strings), one module each: the
//! functions' names and overloads for the checker, and their evaluation. The checker finds a
//! library function by its written name, namespace included (`base64.encode`, `math.greatest`),
//! or as a method (`'%d'.format([1])`); the IR names it by [`LibraryFn`].

pub mod encoders;
pub mod lists;
pub mod math;
pub mod network;
pub mod strings;

use crate::check::signature::Function;
use crate::value::Value;
use serde::{Deserialize, Serialize};

/// A function of an extension library, by library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LibraryFn {
    Encoders(encoders::EncoderFn),
    Lists(lists::ListFn),
    Math(math::MathFn),
    Network(network::NetworkFn),
    Strings(strings::StringFn),
}

/// Every library's function signatures, for the checker.
const LIBRARIES: &[&[Function]] = &[
    encoders::FUNCTIONS,
    lists::FUNCTIONS,
    math::FUNCTIONS,
    network::FUNCTIONS,
    strings::FUNCTIONS,
];

pub(crate) fn functions() -> impl Iterator<Item = &'static Function> {
    LIBRARIES.iter().flat_map(|l| l.iter())
}

/// A library function on evaluated arguments.
pub fn call(f: LibraryFn, args: &[Value]) -> Value {
    match f {
        LibraryFn::Encoders(f) => encoders::call(f, args),
        LibraryFn::Lists(f) => lists::call(f, args),
        LibraryFn::Math(f) => math::call(f, args),
        LibraryFn::Network(f) => network::call(f, args),
        LibraryFn::Strings(f) => strings::call(f, args),
    }
}

/// The error of a call whose arguments fit no overload (an error argument is passed on).
pub(crate) fn no_overload(name: &str, args: &[Value]) -> Value {
    if let Some(err) = args.iter().find(|a| a.is_error()) {
        return err.clone();
    }
    let kinds: Vec<&str> = args.iter().map(Value::type_name).collect();
    Value::error(crate::value::EvalError::NoSuchOverload(format!(
        "{name}({})",
        kinds.join(", ")
    )))
}
