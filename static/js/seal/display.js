// A permit's validity as the server writes it (ztl/values/display.py), so the offline verifier and
// every page, e-mail and PDF say the same thing: dd/mm/yyyy and 24-hour time on the municipality's
// clock, and a period that ends at local midnight shown by its last day, inclusive ("fino al
// 02/12/2026 compreso"), never as the next day at 00:00. The words come from the page (data-validity),
// which takes them from the server's one table; the wall clock is calendar.js's.

import { wallClock } from "./calendar.js";

const two = (n) => String(n).padStart(2, "0");
const clock = (seconds, timeZone) => wallClock(new Date(seconds * 1000), timeZone);

export function dateText(seconds, timeZone) {
  const c = clock(seconds, timeZone);
  return `${two(c.day)}/${two(c.month)}/${String(c.year).padStart(4, "0")}`;
}

export function timeText(seconds, timeZone) {
  const { minute } = clock(seconds, timeZone);
  return `${two(Math.floor(minute / 60))}:${two(minute % 60)}`;
}

// Every offset in use is whole minutes, so a whole minute in UTC is one on the wall clock too.
const atMidnight = (seconds, timeZone) =>
  seconds % 60 === 0 && clock(seconds, timeZone).minute === 0;

const fill = (template, values) =>
  template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));

function startText(seconds, timeZone, words) {
  if (atMidnight(seconds, timeZone)) return dateText(seconds, timeZone);
  return fill(words.at, { date: dateText(seconds, timeZone), time: timeText(seconds, timeZone) });
}

function endText(seconds, timeZone, words) {
  if (atMidnight(seconds, timeZone)) {
    // The end is exclusive: the last day covered is the one before that midnight.
    return fill(words.inclusive, { date: dateText(seconds - 1, timeZone) });
  }
  return fill(words.at, { date: dateText(seconds, timeZone), time: timeText(seconds, timeZone) });
}

// "dal 02/12/2026 al 02/12/2026 compreso", "from 02/12/2026 at 09:00 to 02/12/2026 at 11:00".
export function validityText(validFrom, validTo, timeZone, words) {
  return fill(words.range, {
    start: startText(validFrom, timeZone, words),
    end: endText(validTo, timeZone, words),
  });
}
