//! The bundle: a compiled program as one file, versioned and self-checking.
//!
//! Layout: the magic `OFFERBND`, the format version (u32, little endian), the payload length
//! (u64), the payload's BLAKE3 hash (32 bytes), then the payload: the [`Bundle`] in postcard.
//! A reader refuses another format version before decoding anything, and a damaged file by its
//! hash, so a runtime never runs half a program.

use crate::check::schema::fingerprint;
use crate::ir::Program;
use serde::{Deserialize, Serialize};

/// Raised whenever the encoding of a [`Program`] changes, as when a [`crate::ir::Func`]
/// variant goes (postcard numbers variants by position). 2: the string methods moved into the
/// strings library. 3: record literals (`ExprKind::Record`).
pub const FORMAT_VERSION: u32 = 3;
const MAGIC: &[u8; 8] = b"OFFERBND";
const HEADER_LEN: usize = 8 + 4 + 8 + 32;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    /// The version of the compiler that wrote it.
    pub compiler: String,
    /// The schema's shape (see [`fingerprint`]).
    pub schema_fingerprint: String,
    pub source_map: SourceMap,
    pub program: Program,
}

/// The sources a bundle was compiled from, indexed by [`crate::ir::Origin::file`], so that a
/// runtime can point at the line of a rule without the source tree.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceMap {
    pub files: Vec<SourceEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceEntry {
    pub path: String,
    pub text: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum BundleError {
    #[error("this is not an Offer bundle")]
    #[diagnostic(
        code(offer::bundle::not_a_bundle),
        help("bundles are written by `offer compile`")
    )]
    NotABundle,
    #[error("the bundle has format version {found}, and this `offer` reads version {expected}")]
    #[diagnostic(
        code(offer::bundle::version),
        help("compile the program again with this `offer compile`")
    )]
    Version { found: u32, expected: u32 },
    #[error("the bundle is damaged: {0}")]
    #[diagnostic(
        code(offer::bundle::damaged),
        help("compile the program again with `offer compile`")
    )]
    Damaged(String),
}

impl Bundle {
    pub fn new(program: Program, files: Vec<SourceEntry>) -> Bundle {
        Bundle {
            compiler: env!("CARGO_PKG_VERSION").to_string(),
            schema_fingerprint: fingerprint(&program.schema),
            source_map: SourceMap { files },
            program,
        }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, BundleError> {
        let payload = postcard::to_stdvec(self).map_err(|e| BundleError::Damaged(e.to_string()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(blake3::hash(&payload).as_bytes());
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// Whether `bytes` start like a bundle (whatever their state further on).
    pub fn looks_like(bytes: &[u8]) -> bool {
        bytes.starts_with(MAGIC)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle, BundleError> {
        if bytes.get(..8) != Some(MAGIC.as_slice()) {
            return Err(BundleError::NotABundle);
        }
        let version = bytes
            .get(8..12)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| BundleError::Damaged("the header is cut short".into()))?;
        if version != FORMAT_VERSION {
            return Err(BundleError::Version {
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let len = bytes
            .get(12..20)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or_else(|| BundleError::Damaged("the header is cut short".into()))?;
        let hash = bytes
            .get(20..HEADER_LEN)
            .ok_or_else(|| BundleError::Damaged("the header is cut short".into()))?;
        let payload = bytes.get(HEADER_LEN..).unwrap_or(&[]);
        if payload.len() as u64 != len {
            return Err(BundleError::Damaged(format!(
                "{} bytes of content where the header says {len}",
                payload.len()
            )));
        }
        if blake3::hash(payload).as_bytes().as_slice() != hash {
            return Err(BundleError::Damaged(
                "its content does not match its hash".into(),
            ));
        }
        let bundle: Bundle =
            postcard::from_bytes(payload).map_err(|e| BundleError::Damaged(e.to_string()))?;
        if bundle.schema_fingerprint != fingerprint(&bundle.program.schema) {
            return Err(BundleError::Damaged(
                "its schema does not match its fingerprint".into(),
            ));
        }
        Ok(bundle)
    }

    /// The hex BLAKE3 hash of the payload: names this exact program.
    pub fn content_hash(bytes: &[u8]) -> Option<String> {
        bytes
            .get(20..HEADER_LEN)
            .map(|h| h.iter().map(|b| format!("{b:02x}")).collect())
    }
}
