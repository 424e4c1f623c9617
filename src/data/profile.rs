//! Per-field profiles of the data (`lint --data`): present and missing
//! cells, the range of numbers, how often given string literals and null
//! markers occur. Counts only, bounded per field, so memory stays flat and
//! batches merge in any grouping to the same result.

use super::pipeline::widen;
use super::reader::Fields;
use crate::cell::{Cell, Nulls, parse_cell};
use crate::types::FieldType;
use crate::value::Val;

/// Spellings kept per literal that differ from it only in case or spaces
/// (`New`, ` new ` for `"new"`); further ones are counted in
/// [`LiteralCount::others`] without their text.
pub const MAX_VARIANTS: usize = 8;

/// What to count for one schema field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileSpec {
    /// The field's schema slot; it must be among the fields the job reads.
    pub slot: usize,
    /// String literals the rules compare the field with, and how.
    pub literals: Vec<Literal>,
    /// Null markers whose occurrences are counted, one by one.
    pub markers: Vec<String>,
}

/// How a string literal is compared with a field's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// `==`, `!=`, `in`: the whole cell; a near spelling differs in ASCII
    /// case or spaces.
    Equal,
    /// `contains(field, "x")`: anywhere in the cell; a near spelling differs in ASCII case.
    Contains,
    /// `starts_with(field, "x")`.
    StartsWith,
    /// `ends_with(field, "x")`.
    EndsWith,
}

/// A string literal a field is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub text: String,
    pub how: Match,
}

/// How often a literal occurs in a column, and its near spellings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiteralCount {
    /// Cells equal to the literal, byte for byte.
    pub exact: u64,
    /// Cells equal to it but for ASCII case and spaces, by text (at most
    /// [`MAX_VARIANTS`] texts, sorted).
    pub variants: Vec<(String, u64)>,
    /// Such cells whose text did not fit in `variants`.
    pub others: u64,
}

/// The counts of one field over the rows read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldProfile {
    /// Cells with a value.
    pub present: u64,
    /// Cells that were missing (a null marker, or unreadable under `--lenient`).
    pub missing: u64,
    /// Smallest and largest number, for an int or float field.
    pub range: Option<(f64, f64)>,
    /// One per [`ProfileSpec::literals`], in order.
    pub literals: Vec<LiteralCount>,
    /// Cells matching each of [`ProfileSpec::markers`], in order.
    pub markers: Vec<u64>,
}

/// A spec ready to count: each marker as a null set of its own.
pub(super) struct Prepared {
    ty: FieldType,
    col: usize,
    /// The field's null markers (from the schema).
    nulls: Nulls,
    /// Each literal, its [`fold`]ed form (for `Equal`) or its ASCII
    /// lowercase form (for the others).
    literals: Vec<(Literal, String)>,
    markers: Vec<Nulls>,
}

/// `s` lowercased (ASCII) without whitespace: what a near spelling shares.
pub fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Specs joined to the header: the column of each field (`reads` pairs
/// schema slots with columns). A spec whose field is not read is dropped.
pub(super) fn prepare(
    specs: &[ProfileSpec],
    reads: &[(usize, usize)],
    schema: &crate::schema::Schema,
) -> Vec<(usize, Prepared)> {
    specs
        .iter()
        .enumerate()
        .filter_map(|(k, spec)| {
            let &(_, col) = reads.iter().find(|(s, _)| *s == spec.slot)?;
            let field = schema.field(spec.slot);
            let ty = field.ty;
            Some((
                k,
                Prepared {
                    ty,
                    col,
                    nulls: field.nulls.clone(),
                    literals: spec
                        .literals
                        .iter()
                        .map(|l| {
                            let near = match l.how {
                                Match::Equal => fold(&l.text),
                                _ => l.text.to_ascii_lowercase(),
                            };
                            (l.clone(), near)
                        })
                        .collect(),
                    markers: spec
                        .markers
                        .iter()
                        .map(|m| Nulls::for_field(ty, std::slice::from_ref(m)))
                        .collect(),
                },
            ))
        })
        .collect()
}

/// Count one record's cells into `profiles` (one per spec).
pub(super) fn count(fields: Fields, prepared: &[(usize, Prepared)], profiles: &mut [FieldProfile]) {
    for (k, p) in prepared {
        let Some(profile) = profiles.get_mut(*k) else {
            continue;
        };
        let cell = fields.get(p.col);
        match parse_cell(p.ty, &p.nulls, cell) {
            Ok(Cell::Missing) | Err(_) => profile.missing += 1,
            Ok(Cell::Value(v)) => {
                profile.present += 1;
                let x = match v {
                    Val::Int(i) => Some(i as f64),
                    Val::Float(f) => Some(f),
                    _ => None,
                };
                if let Some(x) = x {
                    widen(&mut profile.range, (x, x));
                }
            }
            Ok(Cell::Text) => {
                profile.present += 1;
                if !p.literals.is_empty() {
                    count_literals(cell, &p.literals, &mut profile.literals);
                }
            }
        }
        for (m, n) in p.markers.iter().zip(&mut profile.markers) {
            if matches!(parse_cell(p.ty, m, cell), Ok(Cell::Missing)) {
                *n += 1;
            }
        }
    }
}

/// Count a string cell against each literal: an occurrence as compared,
/// or a near spelling (the cell's text that nearly matches).
fn count_literals(cell: &[u8], literals: &[(Literal, String)], counts: &mut [LiteralCount]) {
    let text = String::from_utf8_lossy(cell);
    let mut folded: Option<String> = None;
    let mut lower: Option<String> = None;
    for ((lit, near), c) in literals.iter().zip(counts) {
        let t = lit.text.as_str();
        let exact = match lit.how {
            Match::Equal => text == t,
            Match::Contains => text.contains(t),
            Match::StartsWith => text.starts_with(t),
            Match::EndsWith => text.ends_with(t),
        };
        if exact {
            c.exact += 1;
            continue;
        }
        if lit.how == Match::Equal {
            if *folded.get_or_insert_with(|| fold(&text)) == *near {
                c.add_variant(&text);
            }
            continue;
        }
        // ASCII lowercasing keeps byte offsets, so the place found in the
        // lowered text is the near spelling's place in the cell.
        let l = lower.get_or_insert_with(|| text.to_ascii_lowercase());
        let at = match lit.how {
            Match::Contains => l.find(near.as_str()),
            Match::StartsWith => l.starts_with(near.as_str()).then_some(0),
            _ => l.ends_with(near.as_str()).then(|| l.len() - near.len()),
        };
        if let Some(spelled) = at.and_then(|i| text.get(i..i + near.len())) {
            c.add_variant(spelled);
        }
    }
}

impl LiteralCount {
    fn add_variant(&mut self, text: &str) {
        match self
            .variants
            .binary_search_by(|(t, _)| t.as_str().cmp(text))
        {
            Ok(i) => self.variants[i].1 += 1,
            Err(_) if self.variants.len() >= MAX_VARIANTS => self.others += 1,
            Err(i) => self.variants.insert(i, (text.to_string(), 1)),
        }
    }

    fn merge(&mut self, b: &LiteralCount) {
        self.exact += b.exact;
        self.others += b.others;
        for (text, n) in &b.variants {
            match self.variants.binary_search_by(|(t, _)| t.cmp(text)) {
                Ok(i) => self.variants[i].1 += n,
                Err(_) if self.variants.len() >= MAX_VARIANTS => self.others += n,
                Err(i) => self.variants.insert(i, (text.clone(), *n)),
            }
        }
    }
}

impl FieldProfile {
    /// An empty profile shaped for `spec`.
    pub fn for_spec(spec: &ProfileSpec) -> FieldProfile {
        FieldProfile {
            literals: vec![LiteralCount::default(); spec.literals.len()],
            markers: vec![0; spec.markers.len()],
            ..FieldProfile::default()
        }
    }

    /// Zero, keeping the shape [`FieldProfile::for_spec`] gave it.
    pub(super) fn clear(&mut self) {
        self.present = 0;
        self.missing = 0;
        self.range = None;
        self.literals.fill(LiteralCount::default());
        self.markers.fill(0);
    }

    pub(super) fn merge(&mut self, b: &FieldProfile) {
        self.present += b.present;
        self.missing += b.missing;
        if let Some(r) = b.range {
            widen(&mut self.range, r);
        }
        if self.literals.len() < b.literals.len() {
            self.literals
                .resize(b.literals.len(), LiteralCount::default());
        }
        for (a, c) in self.literals.iter_mut().zip(&b.literals) {
            a.merge(c);
        }
        if self.markers.len() < b.markers.len() {
            self.markers.resize(b.markers.len(), 0);
        }
        for (a, n) in self.markers.iter_mut().zip(&b.markers) {
            *a += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_spellings_are_capped_and_merge_in_any_order() {
        let mut a = LiteralCount::default();
        for k in 0..(MAX_VARIANTS + 3) {
            a.add_variant(&format!("N{}ew", " ".repeat(k)));
        }
        assert_eq!((a.variants.len(), a.others), (MAX_VARIANTS, 3));
        let mut b = LiteralCount::default();
        b.add_variant("NEW");
        b.exact = 2;
        let mut ab = a.clone();
        ab.merge(&b);
        assert_eq!(ab.exact, 2);
        assert_eq!(ab.others, 4, "NEW did not fit");
        assert_eq!(fold(" Brand  New "), "brandnew");
    }

    #[test]
    fn substring_literals_find_their_spelling_in_the_cell() {
        let lit = |text: &str, how| {
            let l = Literal {
                text: text.to_string(),
                how,
            };
            let near = match how {
                Match::Equal => fold(text),
                _ => text.to_ascii_lowercase(),
            };
            (l, near)
        };
        let lits = [
            lit("sxm", Match::Contains),
            lit("nvidia", Match::StartsWith),
            lit("gb", Match::EndsWith),
            lit("new", Match::Equal),
        ];
        let mut counts = vec![LiteralCount::default(); lits.len()];
        count_literals(b"NVIDIA H100 SXM5 80GB", &lits, &mut counts);
        count_literals(b"nvidia a2 16gb", &lits, &mut counts);
        assert_eq!(counts[0].variants, [("SXM".to_string(), 1)]);
        assert_eq!((counts[1].exact, counts[1].variants.len()), (1, 1));
        assert_eq!(counts[1].variants[0].0, "NVIDIA");
        assert_eq!((counts[2].exact, &counts[2].variants[0].0[..]), (1, "GB"));
        assert_eq!(counts[3], LiteralCount::default());
    }
}
