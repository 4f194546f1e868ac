// Small charts, drawn as inline SVG with the DOM's own methods (no markup strings, no library), so that
// the page's Content-Security-Policy holds and every value stays a number or a text node.
//
//   dailyBars(days, {label}) → an <svg role="img"> of one bar per day, oldest on the left, scaled to the
//       busiest day; a day without use is a short grey tick. days: [{date: "YYYY-MM-DD", requests}].
//       Its accessible name (and hover title) says the total, the busiest day and the period, in words.

import { count, shortDate } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";
const BAR = 2;
const GAP = 1;
const HEIGHT = 24;

function svg(tag, attributes = {}) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

function dayText(isoDate) {
  // A UTC calendar day: read at noon UTC so that no time zone moves it to the day before.
  return shortDate(`${isoDate}T12:00:00Z`);
}

export function describeDays(days, { label = "Requests per day" } = {}) {
  if (!days.length) return `${label}: no data`;
  const total = days.reduce((sum, day) => sum + day.requests, 0);
  const period = `${dayText(days[0].date)} to ${dayText(days[days.length - 1].date)}`;
  if (!total) return `${label}, ${period}: none`;
  const busiest = days.reduce((best, day) => (day.requests > best.requests ? day : best));
  return `${label}, ${period}: ${count(total)} in all, at most ${count(busiest.requests)} on ${dayText(busiest.date)}`;
}

export function dailyBars(days, options = {}) {
  const width = days.length * (BAR + GAP) - GAP;
  const description = describeDays(days, options);
  const chart = svg("svg", {
    class: "daily-bars",
    role: "img",
    "aria-label": description,
    width,
    height: HEIGHT,
    viewBox: `0 0 ${width} ${HEIGHT}`,
    preserveAspectRatio: "none", // a narrower page may draw it narrower, never shorter
    focusable: "false",
  });
  const title = svg("title");
  title.textContent = description;
  chart.appendChild(title);
  const most = Math.max(1, ...days.map((day) => day.requests));
  days.forEach((day, index) => {
    const height = day.requests ? Math.max(2, Math.round((day.requests / most) * HEIGHT)) : 1;
    const bar = svg("rect", {
      x: index * (BAR + GAP),
      y: HEIGHT - height,
      width: BAR,
      height,
      class: day.requests ? "bar" : "bar bar-zero",
    });
    const tip = svg("title");
    tip.textContent = `${dayText(day.date)}: ${count(day.requests)}`;
    bar.appendChild(tip);
    chart.appendChild(bar);
  });
  return chart;
}
