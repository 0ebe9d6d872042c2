//! The bundle format: every example and corpus program round-trips through bytes, the bytes are
//! deterministic, and damage of any kind (a flipped byte, a cut, another version) is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails loudly"
)]

use offer_compiler::bundle::{Bundle, BundleError, FORMAT_VERSION};
use offer_compiler::db::{self, Database};
use offer_tests::{case_root, offer_files, repo_root};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Magic, version, payload length, payload hash.
const HEADER_LEN: usize = 8 + 4 + 8 + 32;

/// Bundles bigger than this get a deterministic sample of flipped positions, not all of them.
const FLIP_EVERY_BYTE_UP_TO: usize = 64 * 1024;
const FLIP_SAMPLE: usize = 2000;

/// Every program that must compile: the examples and the `ok` cases of the check and run corpus.
fn programs() -> Vec<PathBuf> {
    let mut files = Vec::new();
    offer_files(&repo_root().join("examples"), true, &mut files);
    let examples = files.len();
    offer_files(&case_root().join("check/ok"), false, &mut files);
    offer_files(&case_root().join("run/ok"), false, &mut files);
    assert!(examples >= 2, "the examples are found");
    assert!(
        files.len() >= examples + 8,
        "the corpus is found: {files:?}"
    );
    files
}

/// Compiles `path` in a fresh database, as `offer compile` does: its imports are read beside it.
/// The file is named by its path from the repository's root, so that the bundle does not
/// depend on where the repository is.
fn compile(path: &Path) -> Bundle {
    let root = repo_root().canonicalize().unwrap();
    let relative = path
        .canonicalize()
        .unwrap()
        .strip_prefix(&root)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/");
    let text = std::fs::read_to_string(path).unwrap();
    let mut db = Database::new();
    let program = db.program(&relative, &text, &mut |p| {
        std::fs::read_to_string(root.join(p)).ok()
    });
    let checked = db::checked(&db, program);
    assert!(
        !checked.has_errors(),
        "{relative} checks: {:#?}",
        checked.diagnostics
    );
    db::bundle(&db, program).unwrap_or_else(|| panic!("{relative} compiles"))
}

/// Every program's bytes and bundle.
fn bundles() -> Vec<(String, Bundle, Vec<u8>)> {
    programs()
        .iter()
        .map(|path| {
            let bundle = compile(path);
            let bytes = bundle.to_bytes().unwrap();
            (path.display().to_string(), bundle, bytes)
        })
        .collect()
}

/// `Bundle::from_bytes`, with a panic turned into a failure that names the damage.
fn read(bytes: &[u8], what: &dyn Fn() -> String) -> Result<Bundle, BundleError> {
    match catch_unwind(AssertUnwindSafe(|| Bundle::from_bytes(bytes))) {
        Ok(result) => result,
        Err(_) => panic!("reading a bundle panicked: {}", what()),
    }
}

#[test]
fn every_program_round_trips() {
    for (name, bundle, bytes) in bundles() {
        let back = Bundle::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, bundle, "{name}");
        assert_eq!(
            back.to_bytes().unwrap(),
            bytes,
            "{name}: read and written again"
        );
        assert!(
            !bundle.source_map.files.is_empty(),
            "{name} keeps its sources"
        );
        assert_eq!(
            Bundle::content_hash(&bytes).unwrap().len(),
            64,
            "{name}: a BLAKE3 hash in hex"
        );
    }
}

#[test]
fn bundles_are_deterministic() {
    for path in programs() {
        let bundle = compile(&path);
        let bytes = bundle.to_bytes().unwrap();
        assert_eq!(
            bundle.to_bytes().unwrap(),
            bytes,
            "{}: twice",
            path.display()
        );
        // A second compilation from scratch, in another database, writes the same bytes.
        let again = compile(&path).to_bytes().unwrap();
        assert_eq!(again, bytes, "{}: compiled again", path.display());
        assert_eq!(
            Bundle::content_hash(&again),
            Bundle::content_hash(&bytes),
            "{}",
            path.display()
        );
    }
}

/// The positions whose flips a test tries: every byte of a small bundle; for a big one the
/// whole header, the first and last bytes of the payload and an even sample in between.
fn flip_positions(len: usize) -> Vec<usize> {
    if len <= FLIP_EVERY_BYTE_UP_TO {
        return (0..len).collect();
    }
    let mut positions: Vec<usize> = (0..HEADER_LEN + 64).collect();
    positions.extend(len - 64..len);
    let step = (len / FLIP_SAMPLE).max(1);
    positions.extend((HEADER_LEN..len).step_by(step));
    positions.sort_unstable();
    positions.dedup();
    positions
}

#[test]
fn every_flipped_byte_is_refused() {
    let mut tried = 0usize;
    for (name, _, bytes) in bundles() {
        let mut damaged = bytes.clone();
        for at in flip_positions(bytes.len()) {
            for mask in [0x01u8, 0x80, 0xFF] {
                damaged[at] ^= mask;
                let what = || format!("{name}, byte {at} ^ {mask:#04x}");
                let result = read(&damaged, &what);
                damaged[at] ^= mask;
                tried += 1;
                match (at, result) {
                    (_, Ok(_)) => panic!("a damaged bundle was accepted: {}", what()),
                    (0..8, Err(e)) => assert_eq!(e, BundleError::NotABundle, "{}", what()),
                    (8..12, Err(e)) => {
                        assert!(matches!(e, BundleError::Version { .. }), "{}: {e}", what());
                    }
                    (_, Err(e)) => {
                        assert!(matches!(e, BundleError::Damaged(_)), "{}: {e}", what());
                    }
                }
            }
        }
        assert_eq!(damaged, bytes);
    }
    assert!(tried >= 3 * 500, "{tried} flips");
}

#[test]
fn every_truncation_is_refused() {
    for (name, _, bytes) in bundles() {
        for len in 0..bytes.len() {
            let what = || format!("{name} cut to {len} bytes");
            match read(&bytes[..len], &what) {
                Ok(_) => panic!("a truncated bundle was accepted: {}", what()),
                Err(e) if len < 8 => assert_eq!(e, BundleError::NotABundle, "{}", what()),
                Err(e) => assert!(matches!(e, BundleError::Damaged(_)), "{}: {e}", what()),
            }
        }
        // A byte too many is damage too.
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(
            matches!(Bundle::from_bytes(&longer), Err(BundleError::Damaged(_))),
            "{name} with a byte appended"
        );
    }
}

#[test]
fn another_format_version_is_refused_before_decoding() {
    for (name, _, bytes) in bundles() {
        for found in [0, FORMAT_VERSION + 1, FORMAT_VERSION + 0x100, u32::MAX] {
            let mut other = bytes.clone();
            other[8..12].copy_from_slice(&found.to_le_bytes());
            assert_eq!(
                Bundle::from_bytes(&other),
                Err(BundleError::Version {
                    found,
                    expected: FORMAT_VERSION
                }),
                "{name}"
            );
            // Nothing past the version is looked at: a payload of another format may be
            // anything, even cut short.
            other.truncate(12);
            assert_eq!(
                Bundle::from_bytes(&other),
                Err(BundleError::Version {
                    found,
                    expected: FORMAT_VERSION
                }),
                "{name}, header only"
            );
        }
        let message = Bundle::from_bytes(&{
            let mut b = bytes.clone();
            b[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
            b
        })
        .unwrap_err()
        .to_string();
        assert!(message.contains("version"), "{message}");
    }
}

#[test]
fn a_wrong_magic_is_not_a_bundle() {
    for input in [
        &b""[..],
        b"OFFERBN",
        b"offerbnd\x01\0\0\0",
        b"{\"not\": \"a bundle\"}",
    ] {
        assert_eq!(Bundle::from_bytes(input), Err(BundleError::NotABundle));
    }
}

/// A header for `payload` that matches it: what damage would look like if it also rewrote the
/// hash, or what a hostile file is.
fn with_matching_header(original: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = original[..12].to_vec();
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(blake3::hash(payload).as_bytes());
    out.extend_from_slice(payload);
    out
}

/// Past the hash, the decoder meets damaged content only from a writer that hashed it: it must
/// still never panic (or allocate without bound), and what it accepts must read back the same.
#[test]
fn damaged_content_under_a_matching_hash_never_panics() {
    for (name, _, bytes) in bundles() {
        let payload = &bytes[HEADER_LEN..];
        let mut damaged = payload.to_vec();
        let step = (payload.len() / 400).max(1);
        for at in (0..payload.len()).step_by(step) {
            for value in [damaged[at] ^ 0x01, 0xFF, 0x00, 0x80] {
                let saved = damaged[at];
                damaged[at] = value;
                let file = with_matching_header(&bytes, &damaged);
                let what = || format!("{name}, payload byte {at} = {value:#04x}, rehashed");
                if let Ok(bundle) = read(&file, &what) {
                    let again = bundle.to_bytes().unwrap();
                    let reread = Bundle::from_bytes(&again).unwrap();
                    assert_eq!(reread, bundle, "{}", what());
                }
                damaged[at] = saved;
            }
        }
        for len in (0..payload.len()).step_by(step) {
            let file = with_matching_header(&bytes, &payload[..len]);
            let what = || format!("{name}, payload cut to {len} bytes, rehashed");
            assert!(read(&file, &what).is_err(), "{}", what());
        }
    }
}
