//! The encoders extension: `base64.encode(bytes) -> string` and `base64.decode(string) -> bytes`
//! (standard alphabet; decoding also takes input without its `=` padding).

use super::LibraryFn;
use crate::check::signature::{Function, P, Style, o};
use crate::ir::Func;
use crate::value::{EvalError, Value};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EncoderFn {
    Base64Encode,
    Base64Decode,
}

pub(crate) const FUNCTIONS: &[Function] = &[
    Function {
        name: "base64.encode",
        style: Style::Global,
        func: Func::Library(LibraryFn::Encoders(EncoderFn::Base64Encode)),
        overloads: &[o(&[P::Bytes], P::Str)],
    },
    Function {
        name: "base64.decode",
        style: Style::Global,
        func: Func::Library(LibraryFn::Encoders(EncoderFn::Base64Decode)),
        overloads: &[o(&[P::Str], P::Bytes)],
    },
];

pub fn call(f: EncoderFn, args: &[Value]) -> Value {
    match (f, args) {
        (EncoderFn::Base64Encode, [Value::Bytes(b)]) => Value::string(STANDARD.encode(b)),
        (EncoderFn::Base64Decode, [Value::String(s)]) => {
            // Padding is optional on input, as in the reference implementations.
            let trimmed = s.trim_end_matches('=');
            match STANDARD_NO_PAD.decode(trimmed) {
                Ok(bytes) => Value::Bytes(bytes.into()),
                Err(e) => Value::error(EvalError::InvalidArgument(format!("base64.decode: {e}"))),
            }
        }
        (_, [err @ Value::Error(_), ..]) => err.clone(),
        (f, args) => super::no_overload(
            match f {
                EncoderFn::Base64Encode => "base64.encode",
                EncoderFn::Base64Decode => "base64.decode",
            },
            args,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_accepts_missing_padding() {
        let encoded = call(
            EncoderFn::Base64Encode,
            &[Value::Bytes(b"hello"[..].into())],
        );
        assert_eq!(encoded, Value::string("aGVsbG8="));
        for text in ["aGVsbG8=", "aGVsbG8"] {
            assert_eq!(
                call(EncoderFn::Base64Decode, &[Value::string(text)]),
                Value::Bytes(b"hello"[..].into())
            );
        }
        assert!(call(EncoderFn::Base64Decode, &[Value::string("a?")]).is_error());
    }
}
