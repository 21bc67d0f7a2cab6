// When a zone is restricted, from the calendars the page carries (data-calendar), exactly as
// ztl/rules/calendar.py decides it for the server's verify_seal:
// - an instant is classified by the municipality's wall clock (Intl.DateTimeFormat in its time
//   zone, so summer time comes from the browser's tz data, as from zoneinfo's in Python);
// - the zone is active when any calendar entry covers the local minute, end excluded;
// - a window crossing midnight (end at or before start) belongs to the day it starts on: whether it
//   applies (weekday, season, public holiday) is decided by that day, also after midnight;
// - holidays: "ignore" (an ordinary day of its weekday), "off" (not on a holiday), "also" (on its
//   days and on every holiday), "only" (on holidays only);
// - seasons are inclusive ranges of dates already worked out by the server (browser_calendar), as
//   are the public holidays (Easter Monday, the patron saint): no date arithmetic of its own here.
//
// The calendar JSON (ztl.rules.calendar.browser_calendar):
//   {timezone, first_year, last_year, holidays: ["YYYY-MM-DD"...],
//    zones: {CODE: [{days: bitmask bit0=Monday, hours: [[start, end]...] in minutes (end <= start
//    crosses midnight; [0, 1440] is the whole day), holidays: "ignore"|"off"|"also"|"only",
//    seasons: [["YYYY-MM-DD", "YYYY-MM-DD"]...] or null}]}}
// A date outside first_year..last_year is not known: the answer is UNAVAILABLE, never a guess.

export const Activity = Object.freeze({
  ACTIVE: "active", // the zone is restricted at that instant
  INACTIVE: "inactive", // no restriction then: no permit needed
  UNKNOWN_ZONE: "unknown_zone", // the calendars do not hold the zone
  UNAVAILABLE: "unavailable", // the calendars do not cover that date
});

const DAY_MINUTES = 24 * 60;
const DAY_MS = 24 * 60 * 60 * 1000;
const clocks = new Map();

function clockFor(timeZone) {
  let clock = clocks.get(timeZone);
  if (!clock) {
    clock = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      numberingSystem: "latn",
    });
    clocks.set(timeZone, clock);
  }
  return clock;
}

// The wall clock at an instant in a time zone: {year, month, day, minute} (minute of the day).
export function wallClock(at, timeZone) {
  const parts = {};
  for (const part of clockFor(timeZone).formatToParts(at)) {
    parts[part.type] = part.value;
  }
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    minute: (Number(parts.hour) % 24) * 60 + Number(parts.minute),
  };
}

// A calendar date (no time zone: days counted in UTC arithmetic) and what the calendar needs of it.
function dateOf(year, month, day) {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC: it reads years 0-99 as 1900-1999
  const midnight = date.getTime();
  return {
    year: date.getUTCFullYear(),
    iso: isoDate(date),
    weekday: (date.getUTCDay() + 6) % 7, // 0 Monday ... 6 Sunday, as Python's weekday()
    midnight,
  };
}

function isoDate(date) {
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  const year = pad(date.getUTCFullYear(), 4);
  return `${year}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

function dayBefore(date) {
  const before = new Date(date.midnight - DAY_MS);
  return dateOf(before.getUTCFullYear(), before.getUTCMonth() + 1, before.getUTCDate());
}

// Whether an entry's windows start on a local day (CalendarEntry.applies_on).
function appliesOn(entry, date, holiday) {
  if (entry.seasons !== null && entry.seasons !== undefined) {
    // ISO dates compare as text; each range is inclusive.
    if (!entry.seasons.some(([first, last]) => first <= date.iso && date.iso <= last)) {
      return false;
    }
  }
  if (entry.holidays === "only") {
    return holiday;
  }
  if (holiday && entry.holidays === "off") {
    return false;
  }
  if (holiday && entry.holidays === "also") {
    return true;
  }
  return Boolean((entry.days >> date.weekday) & 1);
}

function crossesMidnight([start, end]) {
  return end <= start;
}

// Whether the local minute of a day is covered (ZoneCalendar.intervals_on + active_local).
function coveredOn(entries, today, before, minute, holidays) {
  const todayHoliday = holidays.has(today.iso);
  const beforeHoliday = holidays.has(before.iso);
  for (const entry of entries) {
    if (appliesOn(entry, today, todayHoliday)) {
      for (const window of entry.hours) {
        const end = crossesMidnight(window) ? DAY_MINUTES : window[1];
        if (window[0] <= minute && minute < end) {
          return true;
        }
      }
    }
    if (appliesOn(entry, before, beforeHoliday)) {
      for (const window of entry.hours) {
        if (crossesMidnight(window) && window[1] > 0 && minute < window[1]) {
          return true;
        }
      }
    }
  }
  return false;
}

const holidaySets = new WeakMap();

function holidaysOf(calendar) {
  let set = holidaySets.get(calendar);
  if (!set) {
    set = new Set(calendar.holidays || []);
    holidaySets.set(calendar, set);
  }
  return set;
}

/**
 * Whether a zone is restricted at an instant.
 * @param {object|null} calendar what browser_calendar gives (null: no calendars on this page)
 * @param {string} zone the zone's code
 * @param {Date} at the instant
 * @param {string} [timeZone] the municipality's time zone (default: the calendar's own)
 * @returns {{activity: string, date: string|null}} an Activity, and the local date asked about
 */
export function zoneActivity(calendar, zone, at, timeZone) {
  const zones = calendar && calendar.zones;
  if (!zones || !Object.prototype.hasOwnProperty.call(zones, zone)) {
    return { activity: Activity.UNKNOWN_ZONE, date: null };
  }
  const clock = wallClock(at, timeZone || calendar.timezone);
  const today = dateOf(clock.year, clock.month, clock.day);
  const before = dayBefore(today);
  // Both days matter (last night's window may still run): both must be within the known years.
  const known = (date) => date.year >= calendar.first_year && date.year <= calendar.last_year;
  if (!known(today) || !known(before)) {
    return { activity: Activity.UNAVAILABLE, date: today.iso };
  }
  const active = coveredOn(zones[zone], today, before, clock.minute, holidaysOf(calendar));
  return { activity: active ? Activity.ACTIVE : Activity.INACTIVE, date: today.iso };
}
