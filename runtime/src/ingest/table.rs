//! Rows of named columns (CSV and whitespace-separated text) as events: the header decides
//! once which column feeds which field, then each row is converted cell by cell.

use super::convert::{
    TIMESTAMP_EXAMPLE, fill_profile_key, from_text, is_optional, parse_with_format,
    profile_key_slot, slot_ty, time_format_expected,
};
use super::error::{IngestError, Problem, closest, shown};
use super::ndjson::lookup_type;
use super::{KeySource, Mapping, TimeSource, TypeSource};
use crate::event::Event;
use offer_compiler::schema::Schema;
use offer_compiler::types::RecordId;
use offer_compiler::value::{Nanos, RecordValue, Value, time};
use std::sync::Arc;

/// Which column feeds each slot of one event type.
#[derive(Clone, Debug)]
struct Layout {
    /// `slots[slot]`: the column of that field, if the header has one.
    slots: Vec<Option<usize>>,
    /// The first required field that no column feeds.
    missing: Option<String>,
}

#[derive(Clone, Debug)]
enum TypeFrom {
    Fixed(RecordId),
    Column(usize),
}

#[derive(Clone, Debug)]
enum TimeFrom {
    Column {
        index: usize,
        format: Option<String>,
    },
    Fixed(Nanos),
}

#[derive(Clone, Debug)]
pub(crate) struct Table {
    columns: Vec<String>,
    type_from: TypeFrom,
    /// `None`: the row number is the key.
    key_column: Option<usize>,
    time_from: TimeFrom,
    /// By record id; `None` for records that cannot be the type of a row.
    layouts: Vec<Option<Layout>>,
    ignored: Vec<String>,
    /// Data rows seen so far, bad ones included, so that row keys do not shift after an error.
    rows: u64,
}

fn header_error(line: u64, field: Option<&str>, message: String) -> IngestError {
    Problem::new(field, message).at(line)
}

/// Finds a role column (key, type, time); a near miss is suggested.
fn role_column(
    columns: &[String],
    name: &str,
    role: &str,
    line: u64,
) -> Result<usize, IngestError> {
    let hits: Vec<usize> = (0..columns.len())
        .filter(|&i| columns.get(i).is_some_and(|c| c == name))
        .collect();
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => {
            let hint = closest(name, columns.iter().map(String::as_str))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            Err(header_error(
                line,
                Some(name),
                format!("missing column `{name}` for the event {role}{hint}"),
            ))
        }
        _ => Err(header_error(
            line,
            Some(name),
            format!("duplicate column `{name}`"),
        )),
    }
}

impl Table {
    pub(crate) fn new(
        schema: &Schema,
        columns: Vec<String>,
        mapping: &Mapping,
        line: u64,
    ) -> Result<Table, IngestError> {
        let mut roles: Vec<usize> = Vec::new();
        let type_from = match &mapping.type_source {
            TypeSource::Fixed(name) => {
                TypeFrom::Fixed(lookup_type(schema, name, None).map_err(|p| p.at(line))?)
            }
            TypeSource::Column(name) => {
                let i = role_column(&columns, name, "type", line)?;
                roles.push(i);
                TypeFrom::Column(i)
            }
        };
        let key_column = match &mapping.key {
            KeySource::Row => None,
            KeySource::Column(name) => {
                let i = role_column(&columns, name, "key", line)?;
                roles.push(i);
                Some(i)
            }
        };
        let time_from = match &mapping.time {
            TimeSource::Fixed(at) => TimeFrom::Fixed(*at),
            TimeSource::Column { name, format } => {
                let i = role_column(&columns, name, "time", line)?;
                roles.push(i);
                TimeFrom::Column {
                    index: i,
                    format: format.clone(),
                }
            }
        };
        let candidates: Vec<RecordId> = match type_from {
            TypeFrom::Fixed(id) => vec![id],
            TypeFrom::Column(_) => schema.event_types().map(|(id, _)| id).collect(),
        };
        let mut layouts: Vec<Option<Layout>> = vec![None; schema.records.len()];
        let mut used = vec![false; columns.len()];
        for &id in &candidates {
            let Some(def) = schema.record(id) else {
                continue;
            };
            let key_slot = profile_key_slot(def);
            let mut slots = Vec::with_capacity(def.fields.len());
            let mut missing = None;
            for (slot, field) in def.fields.iter().enumerate() {
                let hits: Vec<usize> = columns
                    .iter()
                    .enumerate()
                    .filter(|(i, c)| *c == &field.name && !roles.contains(i))
                    .map(|(i, _)| i)
                    .collect();
                if hits.len() > 1 {
                    return Err(header_error(
                        line,
                        Some(&field.name),
                        format!("duplicate column `{}`", field.name),
                    ));
                }
                let column = hits.first().copied();
                if let Some(c) = column
                    && let Some(u) = used.get_mut(c)
                {
                    *u = true;
                }
                if column.is_none()
                    && !is_optional(&field.ty)
                    && key_slot != Some(slot)
                    && missing.is_none()
                {
                    missing = Some(field.name.clone());
                }
                slots.push(column);
            }
            if let (TypeFrom::Fixed(_), Some(name)) = (&type_from, &missing) {
                return Err(header_error(line, Some(name), missing_column(name)));
            }
            if let Some(cell) = layouts.get_mut(id as usize) {
                *cell = Some(Layout { slots, missing });
            }
        }
        let mut ignored: Vec<String> = Vec::new();
        for (i, name) in columns.iter().enumerate() {
            let is_used = used.get(i).copied().unwrap_or(false) || roles.contains(&i);
            if !is_used && !ignored.contains(name) {
                ignored.push(name.clone());
            }
        }
        Ok(Table {
            columns,
            type_from,
            key_column,
            time_from,
            layouts,
            ignored,
            rows: 0,
        })
    }

    pub(crate) fn columns(&self) -> &[String] {
        &self.columns
    }

    pub(crate) fn ignored(&self) -> &[String] {
        &self.ignored
    }

    fn column_name(&self, index: usize) -> &str {
        self.columns.get(index).map_or("", String::as_str)
    }

    /// A data row that could not even be split into cells still takes its row number.
    pub(crate) fn skip_row(&mut self) {
        self.rows += 1;
    }

    /// A data row; `cells` are untrimmed.
    pub(crate) fn row(
        &mut self,
        schema: &Schema,
        cells: &[&str],
        line: u64,
    ) -> Result<Event, IngestError> {
        self.rows += 1;
        self.convert(schema, cells, line).map_err(|p| p.at(line))
    }

    fn cell<'c>(&self, cells: &[&'c str], index: usize) -> Option<&'c str> {
        cells.get(index).map(|c| c.trim()).filter(|c| !c.is_empty())
    }

    fn convert(&self, schema: &Schema, cells: &[&str], line: u64) -> Result<Event, Problem> {
        if cells.len() != self.columns.len() {
            return Err(Problem::new(
                None,
                format!(
                    "expected {} cells, found {}",
                    self.columns.len(),
                    cells.len()
                ),
            ));
        }
        let ty = match self.type_from {
            TypeFrom::Fixed(id) => id,
            TypeFrom::Column(i) => {
                let name = self.column_name(i);
                match self.cell(cells, i) {
                    Some(text) => lookup_type(schema, text, Some(name))?,
                    None => return Err(Problem::new(Some(name), "missing event type")),
                }
            }
        };
        let (Some(def), Some(Some(layout))) = (schema.record(ty), self.layouts.get(ty as usize))
        else {
            return Err(Problem::new(None, "the event type is not in the schema"));
        };
        if let Some(name) = &layout.missing {
            return Err(Problem::new(Some(name), missing_column(name)));
        }
        let key = match self.key_column {
            None => self.rows.to_string(),
            Some(i) => match self.cell(cells, i) {
                Some(text) => text.to_owned(),
                None => return Err(Problem::new(Some(self.column_name(i)), "missing event key")),
            },
        };
        let at = match &self.time_from {
            TimeFrom::Fixed(at) => *at,
            TimeFrom::Column { index, format } => {
                let name = self.column_name(*index);
                let Some(text) = self.cell(cells, *index) else {
                    return Err(Problem::new(Some(name), "missing event time"));
                };
                event_time(text, format.as_deref()).map_err(|m| Problem::new(Some(name), m))?
            }
        };
        let key_slot = profile_key_slot(def);
        let mut fields: Vec<Option<Value>> = Vec::with_capacity(def.fields.len());
        for (slot, (field, column)) in def.fields.iter().zip(&layout.slots).enumerate() {
            let text = column.and_then(|c| self.cell(cells, c));
            let value = match text {
                Some(text) => Some(from_text(schema, slot_ty(&field.ty), text, &field.name)?),
                None if is_optional(&field.ty) || key_slot == Some(slot) => None,
                None => {
                    return Err(Problem::new(
                        Some(&field.name),
                        format!("missing value for required field `{}`", field.name),
                    ));
                }
            };
            fields.push(value);
        }
        fill_profile_key(schema, def, &mut fields, &key)?;
        Ok(Event {
            ty,
            key: Arc::from(key),
            at,
            record: Arc::new(RecordValue { ty, fields }),
            line,
        })
    }
}

fn missing_column(field: &str) -> String {
    format!("missing column for required field `{field}`")
}

fn event_time(text: &str, format: Option<&str>) -> Result<Nanos, String> {
    match format {
        None => time::parse_timestamp(text)
            .map_err(|_| format!("expected {TIMESTAMP_EXAMPLE}, found {}", shown(text))),
        Some(format) => parse_with_format(format, text).ok_or_else(|| {
            format!(
                "expected {}, found {}",
                time_format_expected(format),
                shown(text)
            )
        }),
    }
}
