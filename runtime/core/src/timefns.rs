//! The time built-ins: `hour`, `minute`, `date`, `weekday` in a zone, `days`, `hours`,
//! `minutes`, `seconds`, `millis`, `parse_time`, `format_time`, and [`zone`], which the
//! checker also calls on zone literals (docs/language.md, "Time").
//!
//! Instants are epoch milliseconds; a `time` argument is anything `millis` accepts (RFC 3339
//! with an offset, `YYYY-MM-DD`, or milliseconds), and an instant outside years -9999..9999
//! is an error. Zones are IANA names looked up in the copy of the time zone database built
//! into warden (jiff's bundled one), never the host's `/usr/share/zoneinfo`, so a zone means
//! the same on every host; no zone is UTC. Errors are [`Failure`]s: the index of the
//! offending argument and the message.

use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::fmt::strtime::{self, BrokenDownTime};
use jiff::tz::{Offset, TimeZone, TimeZoneDatabase};
use warden_ir::Builtin;

use crate::Value;
use crate::builtins::{Failure, WEEKDAYS, time_ms};
use crate::text::MAX_BUILT_STRING;

/// The zone an IANA name (`Europe/Berlin`, `UTC`; any ASCII case) names.
pub fn zone(name: &str) -> Result<TimeZone, String> {
    db().get(name)
        .map_err(|_| format!("`{}` is not a time zone (an IANA name such as `Europe/Berlin`, or `UTC`)", shown(name)))
}

/// `hour(time[, zone])`: the hour (0-23) on the zone's clocks.
pub fn hour(time: &Value, zone: Option<&str>) -> Result<i64, Failure> {
    Ok(local("hour", time, zone)?.hour().into())
}

/// `minute(time[, zone])`: the minute (0-59) on the zone's clocks.
pub fn minute(time: &Value, zone: Option<&str>) -> Result<i64, Failure> {
    Ok(local("minute", time, zone)?.minute().into())
}

/// `date(time[, zone])`: the date in the zone, `YYYY-MM-DD` (ISO 8601's `-YYYYYY-MM-DD` for
/// years before 0).
pub fn date(time: &Value, zone: Option<&str>) -> Result<String, Failure> {
    Ok(local("date", time, zone)?.date().to_string())
}

/// `weekday(time[, zone])`: the day of the week in the zone, `"monday"` to `"sunday"`.
pub fn weekday_in(time: &Value, zone: Option<&str>) -> Result<&'static str, Failure> {
    // `WEEKDAYS` starts on a Thursday (1970-01-01): Monday is at 4.
    let monday_zero = local("weekday", time, zone)?.weekday().to_monday_zero_offset();
    Ok(WEEKDAYS[(monday_zero as usize + 4) % 7])
}

/// `days(n)`: `n` days in milliseconds.
pub fn days(n: i64) -> Result<i64, Failure> {
    duration("days", n, 86_400_000)
}

/// `hours(n)`: `n` hours in milliseconds.
pub fn hours(n: i64) -> Result<i64, Failure> {
    duration("hours", n, 3_600_000)
}

/// `minutes(n)`: `n` minutes in milliseconds.
pub fn minutes(n: i64) -> Result<i64, Failure> {
    duration("minutes", n, 60_000)
}

/// `seconds(n)`: `n` seconds in milliseconds.
pub fn seconds(n: i64) -> Result<i64, Failure> {
    duration("seconds", n, 1_000)
}

/// `millis(time)`: the instant as epoch milliseconds.
pub fn millis(time: &Value) -> Result<i64, Failure> {
    Ok(instant("millis", time)?.as_millisecond())
}

/// `parse_time(text, format[, zone])`: the instant `text` names, read with a strftime-style
/// `format` (jiff's `strtime`). The text must carry an offset (`%z`, `%:z`), a zone (`%Q`)
/// or a Unix time (`%s`); otherwise its clock time is read in `zone`, where a time that
/// falls in a gap is read as after the gap and a repeated one as its first occurrence.
pub fn parse_time(text: &str, format: &str, zone: Option<&str>) -> Result<i64, Failure> {
    let zone = zone.map(|name| named(name, 2)).transpose()?;
    let no_match = |e: jiff::Error| {
        (0, format!("`{}` does not match the time format `{}`: {}", shown(text), shown(format), detail(&e)))
    };
    let tm = strtime::parse(format, text).map_err(no_match)?;
    let instant = if tm.offset().is_some() || tm.iana_time_zone().is_some() || tm.timestamp().is_some() {
        tm.to_zoned_datetime_with(db())
    } else if let Some(zone) = zone {
        tm.to_datetime().and_then(|dt| zone.to_zoned_datetime(dt))
    } else {
        return Err((
            0,
            format!(
                "`{}` has no offset and no zone was given (read an offset with `%z`, `%:z` or `%Q`, or pass a zone)",
                shown(text)
            ),
        ));
    };
    let not_instant = |e: jiff::Error| {
        (0, format!("`{}` read as `{}` is not an instant: {}", shown(text), shown(format), detail(&e)))
    };
    Ok(instant.map_err(not_instant)?.timestamp().as_millisecond())
}

/// `format_time(time, pattern[, zone])`: the instant on the zone's clocks, written with a
/// strftime-style `pattern` (jiff's `strtime`), or `"rfc3339"`: RFC 3339 with the zone's
/// offset (`Z` for a zero offset; an offset with seconds, from before standard time, to the
/// nearest minute) and milliseconds when they are not zero. The result is at most 1 MiB.
pub fn format_time(time: &Value, pattern: &str, zone: Option<&str>) -> Result<String, Failure> {
    let ts = instant("format_time", time)?;
    let zone = zone.map_or(Ok(TimeZone::UTC), |name| named(name, 2))?;
    if pattern == "rfc3339" {
        return Ok(rfc3339(ts, &zone));
    }
    let zoned = ts.to_zoned_datetime(zone);
    let mut out = Capped::default();
    BrokenDownTime::from(&zoned)
        .format(pattern, &mut out)
        .map_err(|e| (1, format!("`{}` is not a time format: {}", shown(pattern), detail(&e))))?;
    if out.over {
        return Err((crate::builtins::AT_CALL, "the result of format_time() would exceed 1 MiB".into()));
    }
    Ok(out.text)
}

/// The time zone database built into warden.
fn db() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// The zone named by the argument at `index`.
fn named(name: &str, index: usize) -> Result<TimeZone, Failure> {
    zone(name).map_err(|m| (index, m))
}

/// The argument at 0 as an instant. `time_ms` reads it (and names the builtin only for a
/// value that is not a date-time, which this reports itself).
fn instant(name: &str, time: &Value) -> Result<Timestamp, Failure> {
    let ms = match time {
        Value::Int(_) | Value::Float(_) | Value::Str(_) => time_ms(time, Builtin::Weekday)?,
        other => return Err((0, format!("{name}() needs a date-time, found {}", other.describe()))),
    };
    // `time_ms` checked the range.
    Timestamp::from_millisecond(ms).map_err(|e| (0, e.to_string()))
}

/// The date and clock time of the instant at 0 in the zone at 1 (UTC without one).
fn local(name: &str, time: &Value, zone: Option<&str>) -> Result<DateTime, Failure> {
    let ts = instant(name, time)?;
    let zone = zone.map_or(Ok(TimeZone::UTC), |name| named(name, 1))?;
    Ok(zone.to_datetime(ts))
}

fn duration(name: &str, n: i64, unit: i64) -> Result<i64, Failure> {
    n.checked_mul(unit).ok_or_else(|| (0, format!("integer overflow in {name}({n})")))
}

/// RFC 3339 with the zone's offset to the minute; years outside 0-9999 as ISO 8601's
/// expanded years (`-000044`), which `millis` reads back.
fn rfc3339(ts: Timestamp, zone: &TimeZone) -> String {
    let seconds = zone.to_offset(ts).seconds();
    let minutes = (f64::from(seconds) / 60.0).round() as i32;
    // Real offsets are within a day, so the rounded one is valid; UTC otherwise.
    let offset = Offset::from_seconds(minutes * 60).unwrap_or(Offset::UTC);
    let t = offset.to_datetime(ts);
    let mut s = match t.year() {
        y @ 0..=9999 => format!("{y:04}"),
        y => format!("{y:+07}"),
    };
    s += &format!("-{:02}-{:02}T{:02}:{:02}:{:02}", t.month(), t.day(), t.hour(), t.minute(), t.second());
    if t.millisecond() != 0 {
        s += &format!(".{:03}", t.millisecond());
    }
    if minutes == 0 {
        s.push('Z');
    } else {
        let sign = if minutes < 0 { '-' } else { '+' };
        s += &format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60);
    }
    s
}

/// Formatted text up to `MAX_BUILT_STRING` bytes; past that it drops the rest and says so.
#[derive(Default)]
struct Capped {
    text: String,
    over: bool,
}

impl jiff::fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> Result<(), jiff::Error> {
        if self.over || self.text.len() + s.len() > MAX_BUILT_STRING {
            self.over = true;
        } else {
            self.text.push_str(s);
        }
        Ok(())
    }
}

/// User input for a message: at most 64 characters of it.
fn shown(s: &str) -> String {
    cut(s, 64)
}

/// jiff's reason, which quotes the input: at most 200 characters of it.
fn detail(e: &jiff::Error) -> String {
    cut(&e.to_string(), 200)
}

fn cut(s: &str, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        Some((end, _)) => format!("{}...", &s[..end]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instant of an RFC 3339 text, as epoch milliseconds.
    fn at(text: &str) -> i64 {
        crate::builtins::parse_time(text).expect("an RFC 3339 instant")
    }

    fn ms(text: &str) -> Value {
        Value::Int(at(text))
    }

    const BERLIN: Option<&str> = Some("Europe/Berlin");
    const KOLKATA: Option<&str> = Some("Asia/Kolkata");
    const KATHMANDU: Option<&str> = Some("Asia/Kathmandu");
    const RANGE: &str = "is outside the supported range of date-times (-9999-01-02T01:59:59Z to 9999-12-30T22:00:00Z)";

    #[test]
    fn zones_come_from_the_bundled_database() {
        assert!(zone("UTC").is_ok_and(|z| z.iana_name() == Some("UTC")));
        assert!(zone("utc").is_ok());
        assert!(zone("Europe/Berlin").is_ok_and(|z| z.iana_name() == Some("Europe/Berlin")));
        assert!(zone("america/new_york").is_ok_and(|z| z.iana_name() == Some("America/New_York")));
        assert_eq!(
            zone("Mars/Olympus").map(|_| ()),
            Err("`Mars/Olympus` is not a time zone (an IANA name such as `Europe/Berlin`, or `UTC`)".into())
        );
        assert!(zone("").is_err());
        assert!(zone("+05:30").is_err());
        assert!(zone("../../etc/passwd").is_err());
    }

    #[test]
    fn hour_and_minute_around_berlin_daylight_saving_changes() {
        // 2026-03-29: clocks go from 02:00 CET to 03:00 CEST at 01:00 UTC.
        assert_eq!(hour(&ms("2026-03-29T00:59:59.999Z"), BERLIN), Ok(1));
        assert_eq!(minute(&ms("2026-03-29T00:59:59.999Z"), BERLIN), Ok(59));
        assert_eq!(hour(&ms("2026-03-29T01:00:00Z"), BERLIN), Ok(3));
        assert_eq!(minute(&ms("2026-03-29T01:00:00Z"), BERLIN), Ok(0));
        // 2026-10-25: clocks go from 03:00 CEST back to 02:00 CET at 01:00 UTC; 02:30 twice.
        assert_eq!(hour(&ms("2026-10-24T23:59:00Z"), BERLIN), Ok(1));
        assert_eq!(hour(&ms("2026-10-25T00:30:00Z"), BERLIN), Ok(2));
        assert_eq!(hour(&ms("2026-10-25T00:59:59Z"), BERLIN), Ok(2));
        assert_eq!(hour(&ms("2026-10-25T01:00:00Z"), BERLIN), Ok(2));
        assert_eq!(hour(&ms("2026-10-25T01:30:00Z"), BERLIN), Ok(2));
        assert_eq!(hour(&ms("2026-10-25T02:00:00Z"), BERLIN), Ok(3));
        // UTC without a zone, and named.
        assert_eq!(hour(&ms("2026-10-25T01:30:00Z"), None), Ok(1));
        assert_eq!(hour(&ms("2026-10-25T01:30:00Z"), Some("UTC")), Ok(1));
    }

    #[test]
    fn half_and_quarter_hour_zones() {
        let t = ms("2026-01-01T00:00:00Z");
        assert_eq!((hour(&t, KOLKATA), minute(&t, KOLKATA)), (Ok(5), Ok(30)));
        assert_eq!((hour(&t, KATHMANDU), minute(&t, KATHMANDU)), (Ok(5), Ok(45)));
        let t = ms("2026-01-01T18:29:59Z");
        assert_eq!(date(&t, KOLKATA), Ok("2026-01-01".into()));
        let t = ms("2026-01-01T18:30:00Z");
        assert_eq!(date(&t, KOLKATA), Ok("2026-01-02".into()));
        assert_eq!((hour(&t, KOLKATA), minute(&t, KOLKATA)), (Ok(0), Ok(0)));
        let t = ms("2026-01-01T18:15:00Z");
        assert_eq!((date(&t, KATHMANDU), hour(&t, KATHMANDU)), (Ok("2026-01-02".into()), Ok(0)));
        assert_eq!(date(&t, None), Ok("2026-01-01".into()));
        assert_eq!(date(&t, Some("America/Los_Angeles")), Ok("2026-01-01".into()));
    }

    #[test]
    fn weekday_in_a_zone() {
        // Sunday 23:30 UTC is Monday in Kolkata.
        let t = ms("2026-03-29T23:30:00Z");
        assert_eq!(weekday_in(&t, None), Ok("sunday"));
        assert_eq!(weekday_in(&t, KOLKATA), Ok("monday"));
        assert_eq!(weekday_in(&t, Some("America/Los_Angeles")), Ok("sunday"));
        // Without a zone it is `weekday`, before and after 1970 alike.
        for day in -800..800 {
            let t = day * 21_600_000 + 12_345;
            assert_eq!(
                weekday_in(&Value::Int(t), None),
                crate::builtins::weekday(t).map_err(|f| (0, f.into_message()))
            );
        }
        // All seven names, Monday 2026-03-30 onwards.
        let names: Vec<_> =
            (0..7).map(|d| weekday_in(&Value::Int(at("2026-03-30T12:00:00Z") + d * 86_400_000), None)).collect();
        let expected = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
        assert_eq!(names, expected.map(Ok));
    }

    #[test]
    fn unknown_zones_and_bad_times_are_errors() {
        let t = ms("2026-01-01T00:00:00Z");
        let unknown = "`Mars/Olympus` is not a time zone (an IANA name such as `Europe/Berlin`, or `UTC`)";
        assert_eq!(hour(&t, Some("Mars/Olympus")), Err((1, unknown.into())));
        assert_eq!(weekday_in(&t, Some("Mars/Olympus")), Err((1, unknown.into())));
        assert_eq!(format_time(&t, "rfc3339", Some("Mars/Olympus")), Err((2, unknown.into())));
        assert_eq!(parse_time("2026", "%Y", Some("Mars/Olympus")), Err((2, unknown.into())));
        assert_eq!(hour(&Value::Bool(true), None), Err((0, "hour() needs a date-time, found a bool".into())));
        assert_eq!(millis(&Value::Null), Err((0, "millis() needs a date-time, found null".into())));
        assert!(matches!(minute(&Value::str("2026-01-01T10:00:00"), None), Err((0, _))));
        for extreme in [i64::MIN, i64::MAX] {
            let range = Err((0, format!("{extreme} {RANGE}")));
            assert_eq!(hour(&Value::Int(extreme), KOLKATA), range);
            assert_eq!(date(&Value::Int(extreme), None), range.clone().map(|_: i64| String::new()));
            assert_eq!(millis(&Value::Int(extreme)), range);
            assert_eq!(format_time(&Value::Int(extreme), "rfc3339", None), range.clone().map(|_: i64| String::new()));
        }
    }

    #[test]
    fn the_ends_of_the_range() {
        // jiff's range in whole seconds.
        let (first, last) = (Timestamp::MIN.as_second() * 1000, Timestamp::MAX.as_second() * 1000);
        assert_eq!(format_time(&Value::Int(first), "rfc3339", None), Ok("-009999-01-02T01:59:59Z".into()));
        assert_eq!(format_time(&Value::Int(last), "rfc3339", None), Ok("9999-12-30T22:00:00Z".into()));
        for zone in ["Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Los_Angeles", "Asia/Kathmandu", "UTC"] {
            for t in [first, last] {
                let t = Value::Int(t);
                assert!(hour(&t, Some(zone)).is_ok());
                assert!(date(&t, Some(zone)).is_ok());
                assert!(weekday_in(&t, Some(zone)).is_ok());
                assert!(format_time(&t, "%c %Q %Z %z %s %G-W%V", Some(zone)).is_ok(), "{t:?} in {zone}");
                let text = format_time(&t, "rfc3339", Some(zone));
                assert_eq!(text.as_deref().map(|s| millis(&Value::str(s))), Ok(millis(&t)), "{text:?}");
            }
        }
        assert_eq!(millis(&Value::Int(first - 1)), Err((0, format!("{} {RANGE}", first - 1))));
        assert_eq!(millis(&Value::Int(last + 1)), Err((0, format!("{} {RANGE}", last + 1))));
    }

    #[test]
    fn negative_years() {
        let t = millis(&Value::str("-000044-03-15T12:00:00Z"));
        assert!(t.as_ref().is_ok_and(|t| *t < 0));
        let t = Value::Int(t.unwrap_or_default());
        assert_eq!(date(&t, None), Ok("-000044-03-15".into()));
        assert_eq!(hour(&t, None), Ok(12));
        let expected = jiff::civil::date(-44, 3, 15).weekday().to_monday_zero_offset();
        assert_eq!(
            weekday_in(&t, None).map(|d| WEEKDAYS.iter().position(|w| *w == d)),
            Ok(Some((expected as usize + 4) % 7))
        );
        assert_eq!(format_time(&t, "rfc3339", None), Ok("-000044-03-15T12:00:00Z".into()));
        assert_eq!(format_time(&t, "%Y-%m-%d", None), Ok("-044-03-15".into()));
    }

    #[test]
    fn durations_are_checked() {
        assert_eq!(days(1), Ok(86_400_000));
        assert_eq!(days(-2), Ok(-172_800_000));
        assert_eq!(hours(3), Ok(10_800_000));
        assert_eq!(minutes(-1), Ok(-60_000));
        assert_eq!(seconds(0), Ok(0));
        assert_eq!(days(106_751_991_167), Ok(106_751_991_167 * 86_400_000));
        assert_eq!(days(106_751_991_168), Err((0, "integer overflow in days(106751991168)".into())));
        assert_eq!(hours(i64::MIN), Err((0, format!("integer overflow in hours({})", i64::MIN))));
        assert_eq!(minutes(i64::MAX / 1000), Err((0, format!("integer overflow in minutes({})", i64::MAX / 1000))));
        assert_eq!(seconds(i64::MAX), Err((0, format!("integer overflow in seconds({})", i64::MAX))));
    }

    #[test]
    fn millis_reads_what_time_arguments_are() {
        assert_eq!(millis(&Value::str("2026-03-29T03:00:00+02:00")), Ok(1_774_746_000_000));
        assert_eq!(millis(&Value::str("2026-03-29T01:00:00Z")), Ok(1_774_746_000_000));
        assert_eq!(millis(&Value::str("2026-03-29")), Ok(1_774_742_400_000));
        assert_eq!(millis(&Value::Int(-1)), Ok(-1));
        assert_eq!(millis(&Value::Float(1.9)), Ok(1));
        // Without an offset, a date-time is no instant.
        assert!(matches!(millis(&Value::str("2026-03-29T03:00:00")), Err((0, _))));
        assert!(matches!(millis(&Value::str("yesterday")), Err((0, _))));
        assert!(matches!(millis(&Value::Float(f64::INFINITY)), Err((0, _))));
    }

    #[test]
    fn parse_time_with_an_offset_or_a_zone() {
        let f = "%Y-%m-%d %H:%M:%S %z";
        assert_eq!(parse_time("2026-03-29 03:00:00 +0200", f, None), Ok(1_774_746_000_000));
        // The text's offset wins over a zone.
        assert_eq!(parse_time("2026-03-29 03:00:00 +0200", f, KOLKATA), Ok(1_774_746_000_000));
        assert_eq!(parse_time("2026-03-29T03:00:00.5+02:00", "%Y-%m-%dT%H:%M:%S%.f%:z", None), Ok(1_774_746_000_500));
        assert_eq!(parse_time("1774746000", "%s", None), Ok(1_774_746_000_000));
        assert_eq!(parse_time("2026-01-01 05:45 Asia/Kathmandu", "%Y-%m-%d %H:%M %Q", None), Ok(1_767_225_600_000));
        // A clock time in the given zone.
        let f = "%Y-%m-%d %H:%M";
        assert_eq!(parse_time("2026-03-29 10:00", f, BERLIN), Ok(at("2026-03-29T08:00:00Z")));
        assert_eq!(parse_time("2026-01-01 05:30", f, KOLKATA), Ok(1_767_225_600_000));
        assert_eq!(parse_time("2026-01-01 05:45", f, KATHMANDU), Ok(1_767_225_600_000));
        assert_eq!(parse_time("2026-03-29", "%Y-%m-%d", BERLIN), Ok(at("2026-03-28T23:00:00Z")));
        // In the gap: after it; repeated: the first.
        assert_eq!(parse_time("2026-03-29 02:30", f, BERLIN), Ok(at("2026-03-29T01:30:00Z")));
        assert_eq!(parse_time("2026-10-25 02:30", f, BERLIN), Ok(at("2026-10-25T00:30:00Z")));
        assert_eq!(parse_time("2026-10-25 02:30 +0100", "%Y-%m-%d %H:%M %z", None), Ok(at("2026-10-25T01:30:00Z")));
    }

    #[test]
    fn parse_time_refuses_what_is_not_an_instant() {
        assert_eq!(
            parse_time("2026-03-29 10:00", "%Y-%m-%d %H:%M", None),
            Err((
                0,
                "`2026-03-29 10:00` has no offset and no zone was given (read an offset with `%z`, `%:z` or `%Q`, or pass a zone)"
                    .into()
            ))
        );
        let mismatch = |r: Result<i64, Failure>, start: &str| {
            assert!(matches!(&r, Err((0, m)) if m.starts_with(start)), "{r:?}");
        };
        mismatch(
            parse_time("yesterday", "%Y-%m-%d", BERLIN),
            "`yesterday` does not match the time format `%Y-%m-%d`: ",
        );
        mismatch(
            parse_time("2026-02-30 +0000", "%Y-%m-%d %z", None),
            "`2026-02-30 +0000` read as `%Y-%m-%d %z` is not",
        );
        mismatch(parse_time("2026-01-01 +0000 trailing", "%Y-%m-%d %z", None), "`2026-01-01 +0000 trailing` does not");
        mismatch(parse_time("2026-01-01", "%J", BERLIN), "`2026-01-01` does not match the time format `%J`");
        mismatch(parse_time("2026-01-01 Mars/Olympus", "%Y-%m-%d %Q", None), "`2026-01-01 Mars/Olympus` read as");
        mismatch(parse_time("", "", BERLIN), "`` read as `` is not an instant: ");
        // Read, but not an instant: no date, an offset that contradicts the zone named in the
        // text, past year 9999.
        mismatch(parse_time("12:00 +0000", "%H:%M %z", None), "`12:00 +0000` read as `%H:%M %z` is not an instant: ");
        mismatch(
            parse_time("2026-07-01 12:00 +0100 Europe/Berlin", "%F %H:%M %z %Q", None),
            "`2026-07-01 12:00 +0100 Europe/Berlin` read as `%F %H:%M %z %Q` is not an instant: ",
        );
        mismatch(parse_time("9999-12-31 23:00 +0000", "%F %H:%M %z", None), "`9999-12-31 23:00 +0000` read as");
        // Long texts are cut in messages.
        let long = "9".repeat(100_000);
        let r = parse_time(&long, "%Y", None);
        assert!(matches!(&r, Err((0, m)) if m.len() < 400), "{r:?}");
    }

    #[test]
    fn format_time_rfc3339() {
        let t = ms("2026-03-29T01:00:00Z");
        assert_eq!(format_time(&t, "rfc3339", None), Ok("2026-03-29T01:00:00Z".into()));
        assert_eq!(format_time(&t, "rfc3339", Some("UTC")), Ok("2026-03-29T01:00:00Z".into()));
        assert_eq!(format_time(&t, "rfc3339", BERLIN), Ok("2026-03-29T03:00:00+02:00".into()));
        assert_eq!(format_time(&t, "rfc3339", KOLKATA), Ok("2026-03-29T06:30:00+05:30".into()));
        assert_eq!(format_time(&t, "rfc3339", KATHMANDU), Ok("2026-03-29T06:45:00+05:45".into()));
        assert_eq!(format_time(&t, "rfc3339", Some("America/Los_Angeles")), Ok("2026-03-28T18:00:00-07:00".into()));
        assert_eq!(
            format_time(&ms("2026-03-29T00:59:59.120Z"), "rfc3339", BERLIN),
            Ok("2026-03-29T01:59:59.120+01:00".into())
        );
        assert_eq!(format_time(&Value::Int(-1), "rfc3339", None), Ok("1969-12-31T23:59:59.999Z".into()));
        assert_eq!(format_time(&Value::str("2026-03-29"), "rfc3339", None), Ok("2026-03-29T00:00:00Z".into()));
        // Monrovia kept -00:44:30 until 1972: to the minute, with the clock time to match.
        assert_eq!(
            format_time(&Value::Int(0), "rfc3339", Some("Africa/Monrovia")),
            Ok("1969-12-31T23:15:00-00:45".into())
        );
    }

    #[test]
    fn format_time_round_trips() {
        let zones = [None, BERLIN, KOLKATA, KATHMANDU, Some("America/St_Johns"), Some("Australia/Lord_Howe")];
        let pattern = "%Y-%m-%d %H:%M:%S%.f %:z";
        for t in ["2026-03-29T00:59:59.999Z", "2026-03-29T01:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00.5Z"]
        {
            for zone in zones {
                let t = at(t);
                let text = format_time(&Value::Int(t), "rfc3339", zone);
                assert_eq!(text.as_deref().map(|s| millis(&Value::str(s))), Ok(Ok(t)), "{text:?}");
                let text = format_time(&Value::Int(t), pattern, zone);
                assert_eq!(text.as_deref().map(|s| parse_time(s, pattern, None)), Ok(Ok(t)), "{text:?}");
                // A zone's name alone is ambiguous when clocks go back; with the offset it is not.
                let text = format_time(&Value::Int(t), "%F %T%.f %:z %Q", zone);
                assert_eq!(text.as_deref().map(|s| parse_time(s, "%F %T%.f %:z %Q", None)), Ok(Ok(t)), "{text:?}");
            }
        }
    }

    #[test]
    fn format_time_with_a_pattern() {
        let t = ms("2026-03-29T01:00:00Z");
        assert_eq!(format_time(&t, "%A %d %B %Y %H:%M %Z", BERLIN), Ok("Sunday 29 March 2026 03:00 CEST".into()));
        assert_eq!(format_time(&t, "%F %T %z %Q", KATHMANDU), Ok("2026-03-29 06:45:00 +0545 Asia/Kathmandu".into()));
        assert_eq!(format_time(&t, "%s", BERLIN), Ok("1774746000".into()));
        assert_eq!(format_time(&t, "", None), Ok(String::new()));
        assert_eq!(format_time(&t, "no directives, ünïcode", None), Ok("no directives, ünïcode".into()));
        // Widths are clamped by jiff.
        assert_eq!(format_time(&t, "%255Y", None).map(|s| s.len()), Ok(20));
        let bad = format_time(&t, "%Y %J", None);
        assert!(matches!(&bad, Err((1, m)) if m.starts_with("`%Y %J` is not a time format: ")), "{bad:?}");
        assert!(matches!(format_time(&t, "%", None), Err((1, _))));
        assert!(matches!(format_time(&t, "%:::::z", None), Err((1, _))));
    }

    #[test]
    fn format_time_output_is_limited() {
        let t = ms("2026-03-29T01:00:00Z");
        let exact = "x".repeat(MAX_BUILT_STRING);
        assert_eq!(format_time(&t, &exact, None).map(|s| s.len()), Ok(MAX_BUILT_STRING));
        let over = Err((crate::builtins::AT_CALL, "the result of format_time() would exceed 1 MiB".to_string()));
        assert_eq!(format_time(&t, &format!("{exact}x"), None), over);
        // A short pattern with a long result: `%c` gives 24 bytes, `%Q` a zone's name.
        assert_eq!(format_time(&t, &"%c".repeat(50_000), None), over);
        assert_eq!(format_time(&t, &"%20Q".repeat(60_000), Some("America/Argentina/ComodRivadavia")), over);
        assert!(format_time(&t, &"%c".repeat(40_000), None).is_ok());
    }

    /// Every directive, flag and width jiff knows of and some it does not, in patterns of up to
    /// four characters, formatted and parsed at the ends of the range and in between: errors,
    /// never panics.
    #[test]
    fn no_pattern_panics() {
        let chars: Vec<char> = "%:_-0^#.19aAbBcCdDeEfFgGhHIjJklLmMnNoOpPqQrRsStTuUvVwWxXyYzZ+ é".chars().collect();
        let times = [Timestamp::MIN.as_second() * 1000, -1, 1_774_746_000_123, Timestamp::MAX.as_second() * 1000];
        for a in &chars {
            for b in &chars {
                for c in [None, Some(':'), Some('z'), Some('Y'), Some('f')] {
                    let pattern: String = ['%', *a, *b].into_iter().chain(c).collect();
                    for t in times {
                        let text = format_time(&Value::Int(t), &pattern, Some("Asia/Kathmandu"));
                        if let Ok(text) = text {
                            let _ = parse_time(&text, &pattern, Some("America/St_Johns"));
                        }
                    }
                    let _ = parse_time("2026-03-29T03:00:00+02:00", &pattern, None);
                }
            }
        }
    }
}
