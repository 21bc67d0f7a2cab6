// A permit's validity as the server writes it (ztl/values/display.py), so the offline verifier and
// every page, e-mail and PDF say the same thing: dd/mm/yyyy and 24-hour time on the municipality's
// clock, and a period that ends at local midnight shown by its last day, inclusive ("fino al
// 02/12/2026 compreso"), never as the next day at 00:00. The words come from the page (data-validity),
// which takes them from the server's one table; only the arithmetic is here.

const two = (n) => String(n).padStart(2, "0");

// The wall-clock fields of an instant (seconds since the epoch) in a time zone.
export function localParts(seconds, timeZone) {
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });
  const parts = {};
  for (const { type, value } of format.formatToParts(new Date(seconds * 1000))) {
    parts[type] = Number(value);
  }
  return parts;
}

export function dateText(seconds, timeZone) {
  const p = localParts(seconds, timeZone);
  return `${two(p.day)}/${two(p.month)}/${String(p.year).padStart(4, "0")}`;
}

export function timeText(seconds, timeZone) {
  const p = localParts(seconds, timeZone);
  return `${two(p.hour)}:${two(p.minute)}`;
}

function atMidnight(seconds, timeZone) {
  const p = localParts(seconds, timeZone);
  return p.hour === 0 && p.minute === 0 && p.second === 0;
}

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
