//! `Format-Table` text: a header line, a line of dashes under each column
//! name, and one row per object. What real tables contain and how it is read:
//! - left-aligned text columns start where their dashes start; right-aligned
//!   ones (numbers, dates) end where their dashes end and may start earlier,
//!   so a column ends at the last position blank in every row before the
//!   next column;
//! - cells the console cut short end with `...` (`…` in PowerShell 7), and
//!   are marked truncated like cut `Format-List` lists;
//! - `-Wrap` continues a cell on the next lines with the first column blank:
//!   joined back;
//! - columns that did not fit the console are dropped with a warning, so a
//!   property missing from the table is not known to be absent;
//! - a table whose spacing was collapsed (a chat or web page made runs of
//!   spaces one) has cells that cross the columns the dashes mark: it is
//!   read by whitespace when every line splits into exactly as many words
//!   as there are columns, and is otherwise doubtful (every value in it
//!   unknown), never cut at the dashes into values no one printed;
//! - a table ends at a line that is not a row (a prompt, a `WARNING:` the
//!   shell printed, a `Format-List` property), and at a blank line unless a
//!   row follows it (a paste that put a blank line between rows).

/// One table, read: each row's cells as (column name, text, line).
pub(super) struct Table {
    pub rows: Vec<Vec<(String, String, usize)>>,
    /// Why some properties are not in the table although the objects have
    /// them, when the table shows it.
    pub incomplete: Option<String>,
    /// Lines read, from the header on.
    pub consumed: usize,
    /// How the table was read other than by its columns, for a note.
    pub repaired: Option<String>,
    /// Why no value of the table can be trusted, when none can.
    pub doubtful: Option<String>,
}

/// A line of dashes under column names: `--------  ---- ---------`.
pub(super) fn is_rule(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.starts_with("--") && trimmed.split_whitespace().all(|w| w.len() >= 2 && w.chars().all(|c| c == '-'))
}

/// Reads the table whose header is `lines[0]` and rule `lines[1]`; the
/// table ends where `ends` says a line is no row, at a blank line that no
/// row follows, or at the end of `lines`. Lines are (number, text).
pub(super) fn read(lines: &[(usize, &str)], ends: &dyn Fn(&str) -> bool) -> Table {
    let header: Vec<char> = lines[0].1.chars().collect();
    let rule: Vec<char> = lines[1].1.chars().collect();
    let spans = dash_spans(&rule);
    // Another table's header: a line with a rule under it.
    let starts_table = |i: usize| lines.get(i + 1).is_some_and(|(_, next)| is_rule(next));
    let mut body: Vec<(usize, Vec<char>)> = Vec::new();
    let mut consumed = 2;
    let mut i = 2;
    while let Some((number, text)) = lines.get(i) {
        if text.trim().is_empty() {
            let next = (i + 1..lines.len()).find(|&k| !lines[k].1.trim().is_empty());
            match next {
                Some(k) if !ends(lines[k].1) && !starts_table(k) => {
                    i = k;
                    continue;
                }
                _ => break,
            }
        }
        if ends(text) || starts_table(i) {
            break;
        }
        body.push((*number, text.chars().collect()));
        i += 1;
        consumed = i;
    }
    if column_starts(&spans, &header, &body).is_none() {
        return by_words(lines[0], &body, spans.len(), consumed);
    }
    let starts = column_starts(&spans, &header, &body).unwrap_or_default();
    let cut = |chars: &[char], j: usize| -> String {
        let from = starts[j].min(chars.len());
        let to = starts.get(j + 1).copied().unwrap_or(chars.len()).clamp(from, chars.len());
        chars[from..to].iter().collect::<String>().trim().to_string()
    };
    let names: Vec<String> = (0..spans.len()).map(|j| cut(&header, j)).collect();
    let incomplete = names
        .iter()
        .any(|n| n.ends_with("...") || n.ends_with('…'))
        .then(|| "the console cut the table's column names short".to_string());
    let width = body.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
    let mut rows: Vec<Vec<(String, String, usize)>> = Vec::new();
    // Length of each cell's last physical line, in the row being read.
    let mut last_lengths: Vec<usize> = Vec::new();
    for (number, chars) in &body {
        let cells: Vec<String> = (0..spans.len()).map(|j| cut(chars, j)).collect();
        if cells.first().is_some_and(String::is_empty)
            && let Some(row) = rows.last_mut()
        {
            for (j, text) in cells.into_iter().enumerate().filter(|(_, t)| !t.is_empty()) {
                let Some((_, value, _)) = row.iter_mut().find(|(name, _, _)| *name == names[j]) else { continue };
                // A cell that filled its column was cut inside a word.
                let column_width = starts.get(j + 1).copied().unwrap_or(width) - starts[j];
                if value.ends_with(',') || last_lengths[j] + 1 < column_width {
                    value.push(' ');
                }
                last_lengths[j] = text.chars().count();
                value.push_str(&text);
            }
            continue;
        }
        last_lengths = cells.iter().map(|c| c.chars().count()).collect();
        rows.push(
            names
                .iter()
                .zip(cells)
                .filter(|(name, _)| !name.is_empty() && !name.ends_with("...") && !name.ends_with('…'))
                .map(|(name, text)| (name.clone(), text, *number))
                .collect(),
        );
    }
    Table { rows, incomplete, consumed, repaired: None, doubtful: None }
}

/// Character ranges of the runs of dashes.
fn dash_spans(rule: &[char]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in rule.iter().chain(std::iter::once(&' ')).enumerate() {
        match (c, start) {
            ('-', None) => start = Some(i),
            ('-', Some(_)) => {}
            (_, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    spans
}

/// Where each column starts: the first column at 0; each later one just
/// after the last position, before its dashes start (or at their start), that
/// is blank in the header and in every row. `None` when for some column no
/// such position exists: a cell crosses into the next column.
fn column_starts(spans: &[(usize, usize)], header: &[char], body: &[(usize, Vec<char>)]) -> Option<Vec<usize>> {
    let blank = |i: usize| {
        header.get(i).is_none_or(|c| c.is_whitespace())
            && body.iter().all(|(_, r)| r.get(i).is_none_or(|c| c.is_whitespace()))
    };
    let mut starts = vec![0];
    for j in 1..spans.len() {
        let lowest = spans[j - 1].1;
        let highest = spans[j].0;
        let separator = (lowest..highest).rev().find(|&i| blank(i))?;
        starts.push(separator + 1);
    }
    Some(starts)
}

/// A table whose cells cross its columns, read by words: when the header
/// and every row have exactly `columns` words, each word is a cell; else
/// every value is doubtful.
fn by_words(header: (usize, &str), body: &[(usize, Vec<char>)], columns: usize, consumed: usize) -> Table {
    let names: Vec<&str> = header.1.split_whitespace().collect();
    let rows: Vec<(usize, String)> = body.iter().map(|(n, chars)| (*n, chars.iter().collect())).collect();
    let fits = names.len() == columns
        && rows.iter().all(|(_, text)| !text.starts_with([' ', '\t']) && text.split_whitespace().count() == columns);
    let read = |with_names: &[&str]| -> Vec<Vec<(String, String, usize)>> {
        rows.iter()
            .map(|(n, text)| {
                with_names
                    .iter()
                    .zip(text.split_whitespace())
                    .map(|(name, cell)| (name.to_string(), cell.to_string(), *n))
                    .collect()
            })
            .collect()
    };
    if fits {
        return Table {
            rows: read(&names),
            incomplete: None,
            consumed,
            repaired: Some(format!(
                "the table at line {} crosses its own columns (its spacing was collapsed); each line had one word per column, and was read so",
                header.0
            )),
            doubtful: None,
        };
    }
    let why = "the table's spacing was collapsed, so its cells cannot be told apart (a value with a space in it spans columns); export with `| Format-List *` or as JSON";
    // Each row is kept so that what it stood for is known to be there, with
    // every value doubtful.
    let rows = rows
        .iter()
        .map(|(n, text)| names.iter().map(|name| (name.to_string(), text.trim().to_string(), *n)).collect())
        .collect();
    Table { rows, incomplete: None, consumed, repaired: None, doubtful: Some(why.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
        read(&lines, &|line| line.starts_with("PS ") || line.starts_with("WARNING:"))
    }

    fn cells(t: &Table, row: usize) -> Vec<(&str, &str)> {
        t.rows[row].iter().map(|(n, v, _)| (n.as_str(), v.as_str())).collect()
    }

    #[test]
    fn left_and_right_aligned_columns() {
        let t = table(
            "Identity                  ProxyFqdn              Enabled AccessEdgeExternalSipPort\n\
             --------                  ---------              ------- -------------------------\n\
             Skype for Business Online sipfed.online.lync.com    True                      5061\n\
             Fabrikam                  sip.fabrikam.com         False                     15061\n",
        );
        assert_eq!(
            cells(&t, 0),
            [
                ("Identity", "Skype for Business Online"),
                ("ProxyFqdn", "sipfed.online.lync.com"),
                ("Enabled", "True"),
                ("AccessEdgeExternalSipPort", "5061")
            ]
        );
        assert_eq!(cells(&t, 1)[3], ("AccessEdgeExternalSipPort", "15061"));
        assert!(t.incomplete.is_none());
        assert_eq!(t.consumed, 4);
    }

    #[test]
    fn wrapped_cells_are_joined() {
        let t = table(
            "Use                Subject               AlternativeNames\n\
             ---                -------               ----------------\n\
             AccessEdgeExternal CN=sip.contoso.com    {sip.contoso.com,\n\
             \u{20}                                         webcon.contoso.com,\n\
             \u{20}                                         sip.fabrikam.com}\n\
             Internal           CN=edge.contoso.local {}\n",
        );
        assert_eq!(t.rows.len(), 2);
        assert_eq!(cells(&t, 0)[2].1, "{sip.contoso.com, webcon.contoso.com, sip.fabrikam.com}");
        assert_eq!(cells(&t, 1)[0].1, "Internal");
    }

    #[test]
    fn collapsed_spacing_is_read_by_words_or_doubted() {
        let t = table(
            "Identity Name IsDefault\n-------- ---- ---------\ncontoso.com contoso.com True\nfabrikam.com fabrikam.com False\n",
        );
        assert_eq!(cells(&t, 1), [("Identity", "fabrikam.com"), ("Name", "fabrikam.com"), ("IsDefault", "False")]);
        assert!(t.repaired.is_some() && t.doubtful.is_none());
        let t = table("Identity Name Description\n-------- ---- -----------\ncontoso.com contoso.com Main domain\n");
        assert!(t.doubtful.is_some() && t.repaired.is_none());
        assert_eq!(t.rows.len(), 1, "the row is kept, every value doubtful");
        // A table whose columns hold: read by its columns, nothing said.
        let t = table("Name         IsDefault\n----         ---------\ncontoso.com       True\n");
        assert!(t.repaired.is_none() && t.doubtful.is_none());
    }

    #[test]
    fn ends_at_a_blank_line() {
        let t = table("Name\n----\ncontoso.com\n\nPS C:\\> next\n");
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.consumed, 3);
        // A blank line between rows does not end it; a line that is no row
        // does, blank line or not.
        let t = table("Name\n----\ncontoso.com\n\nfabrikam.com\n\n\nlitware.com\nWARNING: 2 columns do not fit\n");
        let names: Vec<&str> = t.rows.iter().map(|r| r[0].1.as_str()).collect();
        assert_eq!(names, ["contoso.com", "fabrikam.com", "litware.com"]);
        assert_eq!(t.consumed, 8);
        let t = table("Name\n----\ncontoso.com\n\nOther\n-----\nx\n");
        assert_eq!(t.rows.len(), 1, "another table's header ends it");
        assert!(is_rule("-------- ----  ---"));
        assert!(!is_rule("- item"));
        assert!(!is_rule("----abc"));
    }
}
