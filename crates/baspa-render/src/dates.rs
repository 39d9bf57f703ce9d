//! Local date formats (ML-7, KAZAKH.md §4): kk "2026 ж. 23 қараша", ru "23 ноября 2026 г.",
//! en "23 November 2026". Times are shown in Kazakhstan time (UTC+5 since 1 March 2024).

use chrono::{DateTime, Datelike, FixedOffset, Timelike};

use baspa_domain::lang::KAZAKH_MONTHS as KK_MONTHS;
const RU_MONTHS_GENITIVE: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];
const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const RU_MONTHS_NOMINATIVE: [&str; 12] = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
];

/// A month as a heading: kk «2026 ж. қараша», ru «ноябрь 2026 г.», en «November 2026».
pub fn format_month(year: i32, month: u32, lang: &str) -> String {
    let m = (month.clamp(1, 12) - 1) as usize;
    match lang.split('-').next().unwrap_or_default() {
        "kk" => format!("{year} ж. {}", KK_MONTHS[m]),
        "ru" => format!("{} {year} г.", RU_MONTHS_NOMINATIVE[m]),
        _ => format!("{} {year}", EN_MONTHS[m]),
    }
}

const KZ_OFFSET_SECONDS: i32 = 5 * 3600;

/// Formats an RFC 3339 time for display; input that does not parse is returned unchanged.
pub fn format_date(rfc3339: &str, lang: &str) -> String {
    let Ok(at) = DateTime::parse_from_rfc3339(rfc3339) else {
        return rfc3339.to_owned();
    };
    let Some(offset) = FixedOffset::east_opt(KZ_OFFSET_SECONDS) else {
        return rfc3339.to_owned();
    };
    let local = at.with_timezone(&offset);
    let (y, m, d) = (local.year(), local.month0() as usize, local.day());
    let time = format!("{:02}:{:02}", local.hour(), local.minute());
    match lang.split('-').next().unwrap_or_default() {
        "kk" => format!("{y} ж. {d} {}, {time}", KK_MONTHS[m]),
        "ru" => format!("{d} {} {y} г., {time}", RU_MONTHS_GENITIVE[m]),
        _ => format!("{d} {} {y}, {time}", EN_MONTHS[m]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ml7_dates_use_local_month_names_and_kazakhstan_time() {
        assert_eq!(format_date("2026-11-23T09:35:00+00:00", "kk"), "2026 ж. 23 қараша, 14:35");
        assert_eq!(format_date("2026-11-23T09:35:00+00:00", "ru"), "23 ноября 2026 г., 14:35");
        assert_eq!(format_date("2026-12-31T20:00:00+00:00", "en"), "1 January 2027, 01:00");
        assert_eq!(format_date("not a date", "kk"), "not a date");
        assert_eq!(format_month(2026, 11, "kk"), "2026 ж. қараша");
        assert_eq!(format_month(2026, 11, "ru"), "ноябрь 2026 г.");
        assert_eq!(format_month(2026, 11, "en"), "November 2026");
    }
}
