//! Calendar dates and intervals (`12 months`, `2 weeks`) as the SMS writes them.

use jiff::civil::Date;
use jiff::{Span, ToSpan};

/// A review or freshness interval: a count of calendar units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    pub count: i32,
    pub unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Unit {
    Days,
    Weeks,
    Months,
    Years,
}

impl Interval {
    pub fn months(count: i32) -> Interval {
        Interval {
            count,
            unit: Unit::Months,
        }
    }

    fn span(self) -> Span {
        match self.unit {
            Unit::Days => self.count.days(),
            Unit::Weeks => self.count.weeks(),
            Unit::Months => self.count.months(),
            Unit::Years => self.count.years(),
        }
    }

    /// `date` plus this interval (clamped to the last day of a shorter month).
    pub fn after(self, date: Date) -> Date {
        date.checked_add(self.span()).unwrap_or(Date::MAX)
    }

    /// `date` minus this interval.
    pub fn before(self, date: Date) -> Date {
        date.checked_sub(self.span()).unwrap_or(Date::MIN)
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match (self.unit, self.count == 1) {
            (Unit::Days, true) => "day",
            (Unit::Days, false) => "days",
            (Unit::Weeks, true) => "week",
            (Unit::Weeks, false) => "weeks",
            (Unit::Months, true) => "month",
            (Unit::Months, false) => "months",
            (Unit::Years, true) => "year",
            (Unit::Years, false) => "years",
        };
        write!(f, "{} {unit}", self.count)
    }
}

/// Parse `<n> <unit>`; the error says what is accepted.
pub fn parse_interval(text: &str) -> Result<Interval, String> {
    let err = || {
        format!("`{text}` is not an interval; write `<n> days`, `<n> weeks`, `<n> months` or `<n> years` (e.g. `12 months`)")
    };
    let mut parts = text.split_whitespace();
    let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(err());
    };
    let count: i32 = n.parse().map_err(|_| err())?;
    if !(1..=1000).contains(&count) {
        return Err(format!("`{text}`: the count must be between 1 and 1000"));
    }
    let unit = match unit {
        "day" | "days" => Unit::Days,
        "week" | "weeks" => Unit::Weeks,
        "month" | "months" => Unit::Months,
        "year" | "years" => Unit::Years,
        _ => return Err(err()),
    };
    Ok(Interval { count, unit })
}

/// Parse `YYYY-MM-DD` strictly.
pub fn parse_date(text: &str) -> Result<Date, String> {
    let ok_shape = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !ok_shape {
        return Err(format!(
            "`{text}` is not a date; write YYYY-MM-DD (e.g. 2026-03-14)"
        ));
    }
    // The shape is checked: the fields are digits. Read by hand (what parsing the text as a
    // `Date` gives, without its general ISO 8601 parser: rules read a million row dates).
    let b = text.as_bytes();
    let num =
        |r: std::ops::Range<usize>| b[r].iter().fold(0i16, |n, &c| n * 10 + i16::from(c - b'0'));
    let (y, m, d) = (num(0..4), num(5..7) as i8, num(8..10) as i8);
    Date::new(y, m, d).map_err(|_| format!("`{text}` is not a real calendar date"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reading a date by hand is what jiff's parser reads: every day of the years 0, 1900,
    /// 2000, 2024–2026 and 9999, and impossible days and months.
    #[test]
    fn dates_read_as_jiff_reads_them() {
        for y in [0, 1900, 2000, 2024, 2025, 2026, 9999] {
            for m in 0..=13 {
                for d in 0..=32 {
                    let t = format!("{y:04}-{m:02}-{d:02}");
                    assert_eq!(parse_date(&t).ok(), t.parse::<Date>().ok(), "{t}");
                }
            }
        }
    }

    #[test]
    fn intervals_parse_and_add() {
        let i = parse_interval("12 months").unwrap();
        assert_eq!(i, Interval::months(12));
        let d = parse_date("2025-02-28").unwrap();
        assert_eq!(i.after(d).to_string(), "2026-02-28");
        assert_eq!(
            parse_interval("1 year")
                .unwrap()
                .after(parse_date("2024-02-29").unwrap())
                .to_string(),
            "2025-02-28"
        );
    }

    #[test]
    fn bad_intervals_and_dates_say_why() {
        assert!(parse_interval("1 fortnight")
            .unwrap_err()
            .contains("months"));
        assert!(parse_interval("0 days").is_err());
        assert!(parse_interval("twelve months").is_err());
        assert!(parse_date("2026-02-30").unwrap_err().contains("calendar"));
        assert!(parse_date("26-2-3").unwrap_err().contains("YYYY-MM-DD"));
        assert!(parse_date("2026-1-05").is_err());
    }
}
