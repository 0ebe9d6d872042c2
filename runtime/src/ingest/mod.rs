//! Reading events from files: NDJSON, CSV and whitespace-separated text, checked against the
//! schema field by field. (Being written.)
