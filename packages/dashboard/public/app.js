// bedrock-spend local dashboard. Plain ES module, no build step; ECharts is the global the
// vendored UMD build defines. Every figure comes from the server as JSON: money as exact decimal
// strings (formatted as text without floating point), converted to numbers only to draw charts.

import { compact, count, exactUsd, percent, signedPercent, signedUsd, usd, usdNumber } from "./format.js";

const echarts = globalThis.echarts;

/** Poll period: new traffic shows within about one period plus one query. */
const POLL_MS = 1000;
/** The filter options (new tenants, models, months) and the reconciliation are re-read every this many polls. */
const FILTERS_EVERY = 5;
/** A connection with no successful poll for this long is shown as stale. */
const STALE_MS = 4000;
/** Alerts kept in the feed. */
const MAX_ALERTS = 100;

const OTHER_KEY = "(other)";
const NONE_KEY = "(none)";
const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const PALETTE = ["#2563eb", "#0891b2", "#7c3aed", "#db2777", "#ea580c", "#16a34a", "#ca8a04", "#4f46e5", "#0d9488", "#be123c", "#65a30d", "#9333ea"];
const GREY = "#cbd5e1";
const TEXT = "#334155";
const MUTED = "#64748b";
const GRID_LINE = "#eef2f7";
const TOKEN_CLASS_LABELS = { input: "Input", output: "Output", cacheRead: "Cache read", cacheWrite: "Cache write" };
const TOKEN_CLASS_COLORS = { input: "#2563eb", output: "#7c3aed", cacheRead: "#0891b2", cacheWrite: "#ea580c" };

// ---------------------------------------------------------------------------------------------
// Formatting

const timeUtc = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: "UTC", hourCycle: "h23" });
const dateUtc = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" });

/** Model id without vendor, release date and version: anthropic.claude-haiku-4-5-20251001-v1:0 -> claude-haiku-4-5. */
function shortModel(model) {
  if (model === OTHER_KEY) return "Other models";
  return model
    .replace(/^[a-z0-9-]+\.(?=[a-z])/, "")
    .replace(/-v\d+(:\d+)?$/, "")
    .replace(/-\d{8}$/, "");
}

/** Short model names, falling back to the id without vendor (then the full id) where two would read the same. */
function modelLabels(keys) {
  const unique = (names, fallback) => names.map((name, index) => (names.indexOf(name) === names.lastIndexOf(name) ? name : fallback[index]));
  const noVendor = keys.map((key) => key.replace(/^[a-z0-9-]+\.(?=[a-z])/, ""));
  return unique(keys.map(shortModel), unique(noVendor, keys));
}

function keyLabel(key, other) {
  if (key === OTHER_KEY) return other ?? "Other";
  if (key === NONE_KEY) return "Not set";
  return key;
}

function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * The server's clock as of its latest answer, epoch ms. "Today" and "this month" are the server's
 * (its clock is the data's), not the browser's, which may be off or set to another date.
 */
function serverNow() {
  const stamp = state.lastData?.generatedAt ?? state.options?.asOf;
  const time = stamp ? Date.parse(stamp) : Number.NaN;
  return Number.isNaN(time) ? Date.now() : time;
}

function formatTime(iso) {
  const date = new Date(iso);
  const today = new Date(serverNow()).toISOString().slice(0, 10);
  return iso.slice(0, 10) === today ? timeUtc.format(date) : `${dateUtc.format(date)} ${timeUtc.format(date).slice(0, 5)}`;
}

function monthLabel(monthKey, short = false) {
  const [year, month] = monthKey.split("-");
  const name = MONTH_NAMES[Number(month) - 1] ?? month;
  return `${short ? name.slice(0, 3) : name} ${year}`;
}

/** Small DOM builder: text always goes through textContent, never HTML. */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// State: the filters live in the URL query (year, month, tenant, model, lookup)

const state = {
  /** "" means all. */
  filters: { year: "", month: "", tenant: "", model: "" },
  lookup: "",
  lookupLive: false,
  options: null,
  optionsText: "",
  dashboardText: "",
  dashboard: null,
  alerts: new Map(),
  alertsSince: null,
  alertsLoaded: false,
  seq: 0,
  ticks: 0,
  timer: 0,
  lastOk: 0,
  renders: 0,
  reconcileText: "",
  performanceText: "",
  rankingText: "",
};

function readUrl() {
  const params = new URLSearchParams(location.search);
  const value = (name) => {
    const text = params.get(name);
    return text === null || text === "all" ? "" : text;
  };
  state.filters = { year: value("year"), month: value("month"), tenant: value("tenant"), model: value("model") };
  state.lookup = value("lookup");
  return params.has("year") || params.has("month");
}

function writeUrl() {
  const params = new URLSearchParams();
  const { year, month, tenant, model } = state.filters;
  params.set("year", year || "all");
  params.set("month", month || "all");
  if (tenant) params.set("tenant", tenant);
  if (model) params.set("model", model);
  if (state.lookup) params.set("lookup", state.lookup);
  const next = `${location.pathname}?${params}`;
  if (next !== `${location.pathname}${location.search}`) history.replaceState(null, "", next);
}

function apiQuery() {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(state.filters)) if (value) params.set(name, value);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The month the tenant lookup reports: the selected one, else the server's current UTC month. */
function lookupMonth() {
  const { year, month } = state.filters;
  if (year && month) return `${year}-${month.padStart(2, "0")}`;
  return new Date(serverNow()).toISOString().slice(0, 7);
}

class RequestError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function getJson(url) {
  const response = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
  const body = await response.json().catch(() => null);
  // The dashboard's routes answer {error: {message}}, the spend API problem details ({detail}).
  if (!response.ok) throw new RequestError(response.status, body?.detail ?? body?.error?.message ?? `${response.status} ${response.statusText}`);
  return body;
}

// ---------------------------------------------------------------------------------------------
// Filters

function setOptions(select, entries, selected, labelOf = (value) => value) {
  const values = entries.map(([value]) => value);
  // A value from the URL that the data does not (yet) hold stays selectable.
  if (selected && !values.includes(selected)) entries.push([selected, labelOf(selected)]);
  const wanted = JSON.stringify(entries);
  if (select.dataset.options !== wanted) {
    select.replaceChildren(...entries.map(([value, label]) => h("option", { value }, label)));
    select.dataset.options = wanted;
  }
  select.value = selected;
}

function renderFilters() {
  const options = state.options ?? { years: [], months: [], tenants: [], models: [] };
  const { year, month, tenant, model } = state.filters;
  setOptions($("f-year"), [["", "All years"], ...options.years.map((value) => [String(value), String(value)])], year);
  const monthNumbers = [...new Set(options.months.filter((key) => !year || key.startsWith(`${year}-`)).map((key) => Number(key.slice(5, 7))))].sort(
    (a, b) => a - b,
  );
  setOptions(
    $("f-month"),
    [["", "All months"], ...monthNumbers.map((value) => [String(value), MONTH_NAMES[value - 1]])],
    month,
    (value) => MONTH_NAMES[Number(value) - 1] ?? value,
  );
  setOptions($("f-tenant"), [["", "All tenants"], ...options.tenants.map((value) => [value, truncate(value, 40)])], tenant);
  const modelNames = modelLabels(options.models);
  setOptions($("f-model"), [["", "All models"], ...options.models.map((value, index) => [value, modelNames[index]])], model);
  $("f-model").title = model || "All models";
  const list = $("tenant-list");
  const tenants = JSON.stringify(options.tenants);
  if (list.dataset.tenants !== tenants) {
    list.replaceChildren(...options.tenants.slice(0, 2000).map((value) => h("option", { value })));
    list.dataset.tenants = tenants;
  }
}

async function loadFilters() {
  const answer = await getJson("/api/filters");
  const { asOf, ...options } = answer;
  const text = JSON.stringify(options);
  if (state.options) state.options.asOf = asOf;
  if (text === state.optionsText) return;
  state.optionsText = text;
  state.options = answer;
  renderFilters();
}

function defaultPeriod() {
  const latest = state.options?.months?.[0] ?? new Date(serverNow()).toISOString().slice(0, 7);
  return { year: latest.slice(0, 4), month: String(Number(latest.slice(5, 7))) };
}

function bindFilters() {
  for (const name of ["year", "month", "tenant", "model"]) {
    $(`f-${name}`).addEventListener("change", (event) => {
      state.filters[name] = event.target.value;
      writeUrl();
      renderFilters();
      refreshNow();
    });
  }
  $("f-reset").addEventListener("click", () => {
    state.filters = { ...defaultPeriod(), tenant: "", model: "" };
    writeUrl();
    renderFilters();
    refreshNow();
  });
}

function periodLabel() {
  const { year, month, tenant, model } = state.filters;
  let label;
  if (year && month) label = `${MONTH_NAMES[Number(month) - 1]} ${year}`;
  else if (year) label = year;
  else if (month) label = `${MONTH_NAMES[Number(month) - 1]}, all years`;
  else label = "all time";
  if (tenant) label += ` · ${truncate(tenant, 24)}`;
  if (model) label += ` · ${truncate(shortModel(model), 24)}`;
  return label;
}

// ---------------------------------------------------------------------------------------------
// KPI tiles

function setKpi(id, text, sub, title) {
  const value = $(`${id}-value`);
  if (value.textContent !== text) {
    const first = value.textContent === "–";
    value.textContent = text;
    if (!first) {
      value.classList.remove("flash");
      void value.offsetWidth;
      value.classList.add("flash");
    }
  }
  value.title = title ?? "";
  $(`${id}-sub`).textContent = sub || "\u00a0";
}

function renderKpis(data) {
  const k = data.kpis;
  $("kpi-period").textContent = `· ${periodLabel()}`;
  setKpi(
    "kpi-cost",
    usd(k.costUsd),
    `${count(k.tenants)} ${k.tenants === 1 ? "tenant" : "tenants"} · ${count(k.models)} ${k.models === 1 ? "model" : "models"}`,
    exactUsd(k.costUsd),
  );
  const perCall = k.invocations - k.unpricedInvocations > 0 ? divideUsd(k.costUsd, k.invocations - k.unpricedInvocations) : null;
  setKpi(
    "kpi-invocations",
    count(k.invocations),
    perCall === null ? "" : `${usd(perCall)} per priced call`,
    perCall === null ? "" : `Average cost per priced invocation: ${usd(perCall)}`,
  );
  setKpi(
    "kpi-tokens",
    count(k.totalTokens),
    `In ${compact.format(k.inputTokens)} · Out ${compact.format(k.outputTokens)} · Cache ${compact.format(k.cacheReadTokens + k.cacheWriteTokens)}`,
    `Input ${count(k.inputTokens)} · Output ${count(k.outputTokens)} · Cache read ${count(k.cacheReadTokens)} · Cache write ${count(k.cacheWriteTokens)}`,
  );
  const share = k.invocations > 0 ? (100 * k.unpricedInvocations) / k.invocations : 0;
  setKpi(
    "kpi-unpriced",
    count(k.unpricedInvocations),
    k.unpricedInvocations > 0 ? `${percent(share, share < 1 ? 2 : 1)} of invocations · not in cost` : "Every invocation is priced",
    k.unpricedInvocations > 0 ? "No price matched these invocations: their tokens are counted, their cost is not (never counted as free)" : "",
  );
  $("kpi-unpriced").dataset.state = k.unpricedInvocations > 0 ? "warn" : "ok";
}

/** Exact average: decimal USD string divided by an integer, 12 decimals, as a string. */
function divideUsd(text, divisor) {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return null;
  const pico = BigInt(match[1] + (match[2] ?? "").padEnd(12, "0").slice(0, 12));
  const quotient = (pico / BigInt(divisor)).toString().padStart(13, "0");
  return `${quotient.slice(0, -12)}.${quotient.slice(-12)}`;
}

// ---------------------------------------------------------------------------------------------
// Charts

const charts = {};
const colorMaps = {};

/** A stable colour per key and chart, so that slices keep their colour as the ranking moves. */
function colorOf(chart, key) {
  if (key === OTHER_KEY || key === NONE_KEY) return GREY;
  colorMaps[chart] ??= new Map();
  const map = colorMaps[chart];
  if (!map.has(key)) map.set(key, PALETTE[map.size % PALETTE.length]);
  return map.get(key);
}

function makeChart(id) {
  const element = $(id);
  const chart = echarts.init(element, null, { renderer: "canvas" });
  element.dataset.rendered = "0";
  // Registered before the first setOption (with animation off), so that no render is missed.
  chart.on("finished", () => {
    element.dataset.rendered = String(Number(element.dataset.rendered) + 1);
  });
  new ResizeObserver(() => {
    chart.resize();
    // The pies lay themselves out from the chart's size in pixels: redraw them at the new size.
    if (state.dashboard && (element.id === "chart-tenant" || element.id === "chart-model")) {
      if (element.id === "chart-tenant") renderTenants(state.dashboard.byTenant);
      else renderModels(state.dashboard.byModel, state.dashboard.kpis);
    }
  }).observe(element);
  return chart;
}

function baseOption() {
  return {
    animation: false,
    aria: { enabled: true },
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily, color: TEXT },
    tooltip: {
      confine: true,
      borderColor: "#e2e8f0",
      backgroundColor: "#ffffff",
      textStyle: { color: TEXT, fontSize: 12 },
      extraCssText: "box-shadow: 0 4px 16px rgba(15,23,42,.12); border-radius: 8px; padding: 8px 10px;",
    },
  };
}

function emptyGraphic(empty) {
  return {
    elements: [
      {
        id: "empty",
        type: "text",
        left: "center",
        top: "middle",
        invisible: !empty,
        silent: true,
        style: { text: "No usage in this selection", fill: MUTED, fontSize: 13 },
      },
    ],
  };
}

function tooltip(title, rows) {
  return `<div class="tt-title">${escapeHtml(title)}</div>${rows
    .filter(Boolean)
    .map(([label, value]) => `<div class="tt-row"><span>${escapeHtml(label)}</span><span>${escapeHtml(value)}</span></div>`)
    .join("")}`;
}

function rowTooltip(row, share, label) {
  return tooltip(label, [
    ["Tokens", count(row.totalTokens)],
    share === null ? null : ["Share", percent(share)],
    ["Invocations", count(row.invocations)],
    ["Cost", usd(row.costUsd)],
    row.unpricedInvocations > 0 ? ["Unpriced", count(row.unpricedInvocations)] : null,
    row.other ? ["Keys summed", count(row.otherCount ?? 0)] : null,
  ]);
}

/** The grid's rect holds the axis labels (ECharts 6's precise successor of `containLabel`). */
const CONTAIN_LABELS = { outerBoundsMode: "same", outerBoundsContain: "axisLabel" };

const valueAxis = (formatter) => ({
  type: "value",
  axisLabel: { color: MUTED, fontSize: 11, formatter },
  splitLine: { lineStyle: { color: GRID_LINE } },
});

const categoryAxisStyle = { axisLine: { lineStyle: { color: "#cbd5e1" } }, axisTick: { show: false }, axisLabel: { color: MUTED, fontSize: 11 } };

/** Days to draw: every day of the selected month (up to today), else every day between the first and last with usage. */
function dayRange(points) {
  const { year, month } = state.filters;
  let start;
  let end;
  if (year && month) {
    start = Date.UTC(Number(year), Number(month) - 1, 1);
    const today = new Date(serverNow());
    end = Math.min(Date.UTC(Number(year), Number(month), 0), Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
    if (points.length > 0) end = Math.max(end, Date.parse(`${points[points.length - 1].day}T00:00:00Z`));
  } else if (points.length > 0) {
    start = Date.parse(`${points[0].day}T00:00:00Z`);
    end = Date.parse(`${points[points.length - 1].day}T00:00:00Z`);
  } else return [];
  const days = [];
  for (let time = start; time <= end && days.length < 1500; time += 86_400_000) days.push(new Date(time).toISOString().slice(0, 10));
  return days;
}

function renderCostOverTime(points) {
  const byDay = new Map(points.map((point) => [point.day, point]));
  const days = dayRange(points);
  const zero = (day) => ({ day, costUsd: "0", invocations: 0, unpricedInvocations: 0, totalTokens: 0 });
  const series = days.map((day) => byDay.get(day) ?? zero(day));
  charts.costOverTime.setOption({
    ...baseOption(),
    grid: { left: 8, right: 16, top: 16, bottom: 4, ...CONTAIN_LABELS },
    tooltip: {
      ...baseOption().tooltip,
      trigger: "axis",
      axisPointer: { type: "line", lineStyle: { color: "#94a3b8" } },
      formatter: (params) => {
        const point = series[params[0].dataIndex];
        return tooltip(`${dateUtc.format(new Date(`${point.day}T00:00:00Z`))}, ${point.day.slice(0, 4)}`, [
          ["Cost", usd(point.costUsd)],
          ["Invocations", count(point.invocations)],
          ["Tokens", count(point.totalTokens)],
          point.unpricedInvocations > 0 ? ["Unpriced", count(point.unpricedInvocations)] : null,
        ]);
      },
    },
    xAxis: {
      type: "category",
      boundaryGap: false,
      data: days,
      ...categoryAxisStyle,
      axisLabel: { ...categoryAxisStyle.axisLabel, formatter: (day) => dateUtc.format(new Date(`${day}T00:00:00Z`)), hideOverlap: true },
    },
    yAxis: valueAxis(usdNumber),
    series: [
      {
        id: "cost",
        name: "Cost",
        type: "line",
        smooth: 0.2,
        symbol: "circle",
        symbolSize: 5,
        showSymbol: series.length <= 31,
        lineStyle: { width: 2, color: "#2563eb" },
        itemStyle: { color: "#2563eb" },
        areaStyle: {
          color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [
            { offset: 0, color: "rgba(37,99,235,0.22)" },
            { offset: 1, color: "rgba(37,99,235,0.02)" },
          ]),
        },
        data: series.map((point) => Number(point.costUsd)),
      },
    ],
    graphic: emptyGraphic(points.length === 0),
  });
}

function renderTokenClasses(rows) {
  const costKnown = rows.some((row) => row.costUsd !== null);
  $("hint-token-class").textContent = costKnown ? "USD, cache tokens priced separately" : "Tokens (cost split unavailable)";
  const value = (row) => (costKnown ? Number(row.costUsd ?? 0) : row.tokens);
  charts.byTokenClass.setOption({
    ...baseOption(),
    grid: { left: 8, right: 16, top: 24, bottom: 4, ...CONTAIN_LABELS },
    tooltip: {
      ...baseOption().tooltip,
      trigger: "item",
      formatter: (params) => {
        const row = rows[params.dataIndex];
        return tooltip(TOKEN_CLASS_LABELS[row.tokenClass], [
          ["Cost", row.costUsd === null ? "not split by class" : usd(row.costUsd)],
          ["Tokens", count(row.tokens)],
        ]);
      },
    },
    xAxis: { type: "category", data: rows.map((row) => TOKEN_CLASS_LABELS[row.tokenClass]), ...categoryAxisStyle },
    yAxis: valueAxis(costKnown ? usdNumber : (n) => compact.format(n)),
    series: [
      {
        id: "classes",
        name: costKnown ? "Cost" : "Tokens",
        type: "bar",
        barMaxWidth: 56,
        label: {
          show: rows.some((row) => row.tokens > 0),
          position: "top",
          color: TEXT,
          fontSize: 11,
          formatter: (params) => {
            const row = rows[params.dataIndex];
            return costKnown ? usd(row.costUsd ?? "0") : compact.format(row.tokens);
          },
        },
        data: rows.map((row) => ({ value: value(row), itemStyle: { color: TOKEN_CLASS_COLORS[row.tokenClass], borderRadius: [4, 4, 0, 0] } })),
      },
    ],
    graphic: emptyGraphic(rows.every((row) => row.tokens === 0)),
  });
}

function renderTenantGroups(rows) {
  const total = rows.reduce((sum, row) => sum + row.totalTokens, 0);
  charts.byTenantGroup.setOption({
    ...baseOption(),
    grid: { left: 8, right: 16, top: 24, bottom: 4, ...CONTAIN_LABELS },
    tooltip: {
      ...baseOption().tooltip,
      trigger: "item",
      formatter: (params) =>
        rowTooltip(
          rows[params.dataIndex],
          total ? (100 * rows[params.dataIndex].totalTokens) / total : 0,
          keyLabel(rows[params.dataIndex].key, "Other groups"),
        ),
    },
    xAxis: {
      type: "category",
      data: rows.map((row) => keyLabel(row.key, "Other groups")),
      ...categoryAxisStyle,
      axisLabel: { ...categoryAxisStyle.axisLabel, interval: 0, width: 90, overflow: "truncate" },
    },
    yAxis: valueAxis((n) => compact.format(n)),
    series: [
      {
        id: "groups",
        name: "Tokens",
        type: "bar",
        barMaxWidth: 48,
        label: { show: true, position: "top", color: TEXT, fontSize: 11, formatter: (params) => compact.format(params.value) },
        data: rows.map((row) => ({
          value: row.totalTokens,
          itemStyle: { color: row.other || row.key === NONE_KEY ? GREY : "#2563eb", borderRadius: [4, 4, 0, 0] },
        })),
      },
    ],
    graphic: emptyGraphic(rows.length === 0),
  });
}

/** Legend width of the pies: a 20-character name and a share. */
const LEGEND_WIDTH = 196;

/** Pie geometry for the chart's current size: the pie in the space the legend leaves, as large as fits. */
function pieLayout(chartName) {
  const chart = charts[chartName];
  const width = chart.getWidth();
  const height = chart.getHeight();
  const room = Math.max(width - LEGEND_WIDTH - 16, width * 0.45);
  const radius = Math.max(40, Math.min(room / 2 - 12, height / 2 - 16));
  return { center: [Math.round(room / 2), Math.round(height / 2)], radius };
}

function pieOption(chartName, rows, { measure, names, donut, centerText }) {
  const total = rows.reduce((sum, row) => sum + measure(row), 0);
  const layout = pieLayout(chartName);
  return {
    ...baseOption(),
    tooltip: {
      ...baseOption().tooltip,
      trigger: "item",
      formatter: (params) => {
        const row = rows[params.dataIndex];
        const title = row.other ? names[params.dataIndex] : row.key === NONE_KEY ? "Not set" : row.key;
        return rowTooltip(row, total ? (100 * measure(row)) / total : 0, title);
      },
    },
    legend: {
      type: "scroll",
      orient: "vertical",
      show: rows.length > 0,
      data: names,
      right: 4,
      top: "middle",
      width: LEGEND_WIDTH - 8,
      itemWidth: 10,
      itemHeight: 10,
      itemGap: 8,
      icon: "circle",
      textStyle: {
        color: TEXT,
        fontSize: 12,
        rich: { n: { width: 136, color: TEXT, fontSize: 12 }, p: { width: 44, align: "right", color: MUTED, fontSize: 12 } },
      },
      pageTextStyle: { color: MUTED },
      formatter: (name) => {
        const row = rows[names.indexOf(name)];
        // Rich-text markup characters cannot occur in tenant or model ids, but strip them anyway.
        const safe = truncate(name.replace(/[{}|]/g, ""), 20);
        return row ? `{n|${safe}}{p|${total ? percent((100 * measure(row)) / total) : ""}}` : safe;
      },
    },
    series: [
      {
        id: chartName,
        name: chartName,
        type: "pie",
        radius: donut ? [Math.round(layout.radius * 0.64), layout.radius] : [0, layout.radius],
        center: layout.center,
        showEmptyCircle: false,
        label: { show: false },
        labelLine: { show: false },
        emphasis: { scaleSize: 4 },
        itemStyle: { borderColor: "#ffffff", borderWidth: 1.5 },
        data: rows.map((row, index) => ({ name: names[index], value: measure(row), itemStyle: { color: colorOf(chartName, row.key) } })),
      },
    ],
    // The donut's centre: total requests.
    title:
      donut && rows.length > 0
        ? {
            text: centerText[0],
            subtext: centerText[1],
            left: layout.center[0],
            top: "center",
            textAlign: "center",
            itemGap: 2,
            textStyle: { color: "#0f172a", fontSize: 20, fontWeight: 650 },
            subtextStyle: { color: MUTED, fontSize: 11 },
          }
        : { show: false },
    graphic: emptyGraphic(rows.length === 0),
  };
}

// Pies merge into the previous option (series and graphic by id), so that legend toggles survive live updates.
function renderTenants(rows) {
  charts.byTenant.setOption(
    pieOption("byTenant", rows, {
      measure: (row) => row.totalTokens,
      names: rows.map((row) => (row.other ? `${count(row.otherCount ?? 0)} other tenants` : keyLabel(row.key))),
      donut: false,
    }),
  );
}

function renderModels(rows, kpis) {
  const short = modelLabels(rows.map((row) => row.key));
  charts.byModel.setOption(
    pieOption("byModel", rows, {
      measure: (row) => row.invocations,
      names: rows.map((row, index) => (row.other ? `${count(row.otherCount ?? 0)} other models` : short[index])),
      donut: true,
      centerText: [compact.format(kpis.invocations), kpis.invocations === 1 ? "request" : "requests"],
    }),
  );
}

function renderDepartments(rows) {
  const total = rows.reduce((sum, row) => sum + row.totalTokens, 0);
  // Largest at the top: a category y axis draws its first item at the bottom.
  const ordered = [...rows].reverse();
  charts.byDepartment.setOption({
    ...baseOption(),
    grid: { left: 8, right: 48, top: 8, bottom: 4, ...CONTAIN_LABELS },
    tooltip: {
      ...baseOption().tooltip,
      trigger: "item",
      formatter: (params) =>
        rowTooltip(
          ordered[params.dataIndex],
          total ? (100 * ordered[params.dataIndex].totalTokens) / total : 0,
          keyLabel(ordered[params.dataIndex].key, "Other departments"),
        ),
    },
    xAxis: valueAxis((n) => compact.format(n)),
    yAxis: {
      type: "category",
      data: ordered.map((row) => keyLabel(row.key, "Other departments")),
      ...categoryAxisStyle,
      axisLabel: { ...categoryAxisStyle.axisLabel, color: TEXT, width: 120, overflow: "truncate" },
    },
    series: [
      {
        id: "departments",
        name: "Tokens",
        type: "bar",
        barMaxWidth: 18,
        label: { show: true, position: "right", color: TEXT, fontSize: 11, formatter: (params) => compact.format(params.value) },
        data: ordered.map((row) => ({
          value: row.totalTokens,
          itemStyle: { color: row.other || row.key === NONE_KEY ? GREY : "#0891b2", borderRadius: [0, 4, 4, 0] },
        })),
      },
    ],
    graphic: emptyGraphic(rows.length === 0),
  });
}

function renderCharts(data) {
  renderCostOverTime(data.costOverTime);
  renderTokenClasses(data.byTokenClass);
  renderTenantGroups(data.byTenantGroup);
  renderTenants(data.byTenant);
  renderDepartments(data.byDepartment);
  renderModels(data.byModel, data.kpis);
}

// ---------------------------------------------------------------------------------------------
// Dashboard polling

async function loadDashboard(seq) {
  const data = await getJson(`/api/dashboard${apiQuery()}`);
  if (seq !== state.seq) return; // a newer selection was asked for meanwhile
  const { generatedAt, ...content } = data;
  const text = JSON.stringify(content);
  state.lastData = data;
  if (text === state.dashboardText) return;
  state.dashboardText = text;
  state.dashboard = data;
  renderKpis(data);
  renderCharts(data);
  state.renders += 1;
  document.body.dataset.renders = String(state.renders);
}

function renderLive(ok) {
  const live = $("live");
  const now = Date.now();
  if (ok) state.lastOk = now;
  const stale = now - state.lastOk > STALE_MS;
  live.dataset.state = state.lastOk === 0 ? "connecting" : stale ? "stale" : "live";
  $("live-label").textContent = state.lastOk === 0 ? "Connecting" : stale ? "Reconnecting…" : "Live";
  const latest = state.lastData?.latestEventTime;
  $("live-detail").textContent = latest ? `Last invocation ${formatTime(latest)} UTC` : state.lastOk ? "No invocations yet" : "";
}

// ---------------------------------------------------------------------------------------------
// Alerts feed

function severityOf(alert) {
  if (alert.kind === "forecast") return "forecast";
  if (alert.threshold >= 100) return "critical";
  if (alert.threshold >= 80) return "high";
  return "info";
}

function alertItem(alert, fresh) {
  const title =
    alert.kind === "forecast"
      ? [h("strong", {}, alert.tenantId), " is forecast to exceed its budget"]
      : [h("strong", {}, alert.tenantId), ` reached ${alert.threshold}% of its budget`];
  const detail =
    alert.kind === "forecast"
      ? `Forecast ${usd(alert.forecastUsd)} vs ${usd(alert.budgetUsd)} · spent ${usd(alert.spendUsd)} · ${monthLabel(alert.month)}`
      : `${usd(alert.spendUsd)} of ${usd(alert.budgetUsd)} · ${monthLabel(alert.month)}`;
  const item = h(
    "li",
    { class: `alert${fresh ? " new" : ""}`, dataset: { severity: severityOf(alert), alertId: alert.alertId }, title: `Look up ${alert.tenantId}` },
    h("span", { class: "sev", "aria-hidden": "true" }),
    h("div", {}, h("p", { class: "alert-title" }, ...title), h("p", { class: "alert-detail" }, detail)),
    h("time", { datetime: alert.firedAt }, formatTime(alert.firedAt)),
  );
  item.addEventListener("click", () => lookUp(alert.tenantId));
  return item;
}

async function loadAlerts() {
  const since = state.alertsSince;
  const alerts = await getJson(since ? `/api/alerts?since=${encodeURIComponent(since)}` : "/api/alerts");
  const fresh = [];
  for (const alert of alerts) {
    if (state.alerts.has(alert.alertId)) continue;
    state.alerts.set(alert.alertId, alert);
    fresh.push(alert);
    if (!state.alertsSince || alert.firedAt > state.alertsSince) state.alertsSince = alert.firedAt;
  }
  const first = !state.alertsLoaded;
  state.alertsLoaded = true;
  if (fresh.length === 0 && !first) return;
  const feed = $("alerts-feed");
  const sorted = [...state.alerts.values()].sort((a, b) => (a.firedAt < b.firedAt ? 1 : a.firedAt > b.firedAt ? -1 : 0)).slice(0, MAX_ALERTS);
  const freshIds = new Set(first ? [] : fresh.map((alert) => alert.alertId));
  feed.replaceChildren(...sorted.map((alert) => alertItem(alert, freshIds.has(alert.alertId))));
  $("alerts-count").textContent = count(state.alerts.size);
  $("alerts-empty").hidden = state.alerts.size > 0;
}

// ---------------------------------------------------------------------------------------------
// Tenant lookup

const STATUS_LABELS = { ok: "On track", warning: "Watch", over: "Over budget", "no-budget": "No budget" };

function renderLookup(result) {
  const box = $("lookup-result");
  const spend = result.spend;
  const head = h(
    "div",
    { class: "lookup-head" },
    h("span", { class: "lookup-tenant", title: result.tenantId }, result.tenantId),
    h("span", { class: `pill ${result.status}` }, STATUS_LABELS[result.status]),
  );
  const amount = h(
    "div",
    { class: "lookup-amount" },
    h("span", { class: "big", title: exactUsd(spend.costUsd), dataset: { field: "spend" } }, usd(spend.costUsd)),
    h("span", { class: "of", dataset: { field: "budget" } }, result.budget ? `of ${usd(result.budget.monthlyUsd)} budget` : "month to date, no budget set"),
  );
  const parts = [head, amount];
  if (result.budget) {
    const used = Math.min(result.percentUsed ?? 0, 100);
    const forecast = Math.min(result.forecastPercent ?? 0, 100);
    const bar = h("div", { class: "bar" });
    bar.style.width = `${used}%`;
    const forecastBar = h("div", { class: "forecast" });
    forecastBar.style.width = `${forecast}%`;
    const ticks = result.thresholds.map((threshold) => {
      const tick = h(
        "span",
        {
          class: `tick${threshold.reached ? " reached" : ""}${threshold.percent >= 95 ? " end" : ""}`,
          title: `${threshold.percent}% · ${usd(threshold.amountUsd)}${threshold.reached ? " · reached" : ""}`,
        },
        h("span", {}, `${threshold.percent}%`),
      );
      tick.style.left = `${Math.min(threshold.percent, 100)}%`;
      return tick;
    });
    parts.push(
      h(
        "div",
        { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": used, dataset: { status: result.status } },
        forecastBar,
        bar,
        ...ticks,
      ),
    );
  }
  const facts = [
    result.budget ? ["Used", `${percent(result.percentUsed ?? 0, 2)}`] : null,
    result.budget ? [Number(result.remainingUsd) < 0 ? "Over by" : "Remaining", usd(result.remainingUsd?.replace(/^-/, "") ?? "0")] : null,
    [
      "Forecast month-end",
      result.forecastUsd === null
        ? "too early in the month"
        : `${usd(result.forecastUsd)}${result.forecastPercent === null ? "" : ` (${percent(result.forecastPercent)})`}`,
    ],
    ["Invocations", count(spend.invocations)],
    ["Tokens", count(spend.inputTokens + spend.outputTokens + spend.cacheReadTokens + spend.cacheWriteTokens)],
    spend.unpricedInvocations > 0 ? ["Unpriced invocations", count(spend.unpricedInvocations)] : null,
  ].filter(Boolean);
  parts.push(h("dl", { class: "facts" }, ...facts.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])));
  box.replaceChildren(...parts);
  box.dataset.tenant = result.tenantId;
  $("lookup-month").textContent = `${monthLabel(result.month, true)} · ${timeUtc.format(new Date(result.asOf))} UTC`;
}

function renderLookupError(tenant, error) {
  const message =
    error instanceof RequestError && error.status === 404
      ? `No usage or budget is recorded for tenant “${tenant}”.`
      : error instanceof RequestError && error.status === 400
        ? error.message
        : "The lookup failed; retrying with the next refresh.";
  $("lookup-result").replaceChildren(h("p", { class: "lookup-error" }, message));
  $("lookup-result").dataset.tenant = "";
}

async function loadLookup(seq) {
  const tenant = state.lookup;
  if (!tenant || !state.lookupLive) return;
  try {
    const result = await getJson(`/api/tenants/${encodeURIComponent(tenant)}?month=${lookupMonth()}`);
    if (seq !== state.seq || tenant !== state.lookup) return;
    renderLookup(result);
  } catch (error) {
    if (tenant !== state.lookup) return;
    // An unknown or invalid tenant stays unknown: stop asking every second until the next lookup.
    if (error instanceof RequestError && error.status < 500) state.lookupLive = false;
    renderLookupError(tenant, error);
  }
}

function lookUp(tenant) {
  const value = tenant.trim();
  $("lookup-input").value = value;
  state.lookup = value;
  state.lookupLive = value !== "";
  writeUrl();
  if (value) {
    $("lookup-result").replaceChildren(h("p", { class: "muted" }, `Looking up ${value}…`));
    refreshNow();
  }
}

function bindLookup() {
  $("lookup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    lookUp($("lookup-input").value);
  });
  charts.byTenant.on("click", (params) => {
    const row = state.dashboard?.byTenant?.[params.dataIndex];
    if (row && !row.other) lookUp(row.key);
  });
}

// ---------------------------------------------------------------------------------------------
// Bill vs logs: the last reconciliation of the AWS bill with the logs (the whole bill: the
// filters do not apply). Drift = bill − logs, so positive means the bill is higher.

/** "up" when the bill is higher than the logs, "down" when lower, "zero" when they agree. */
function driftSign(text) {
  if (/^-?0*(?:\.0*)?$/.test(text)) return "zero";
  return text.startsWith("-") ? "down" : "up";
}

const DRIFT_WORDS = { up: "bill higher than logs", down: "bill lower than logs", zero: "bill matches logs" };
const RECON_SCOPE = "whole bill, not filtered";

/** `hint` with its `code` spans (between backticks) as code elements. */
function withCode(text) {
  return text.split("`").map((part, index) => (index % 2 === 1 ? h("code", {}, part) : part));
}

function reconTile(id, label, value, title, sub, sign) {
  return h(
    "div",
    { class: "recon-tile", dataset: sign ? { sign } : {} },
    h("p", { class: "recon-label" }, label),
    h("p", { class: "recon-value", id, title }, value),
    h("p", { class: "recon-sub" }, sub),
  );
}

function moneyCell(text) {
  return h("td", { title: exactUsd(text) }, usd(text));
}

function driftCells(row) {
  const sign = driftSign(row.driftUsd);
  return [
    h("td", { class: "drift", dataset: { sign }, title: exactUsd(row.driftUsd) }, signedUsd(row.driftUsd)),
    h("td", { class: "drift-pct", dataset: { sign } }, signedPercent(row.driftPct)),
  ];
}

/** A table; `headings` entries are a label, or `[label, "text"]` for a left-aligned text column. */
function reconTable(id, headings, rows) {
  const cell = (heading) => (Array.isArray(heading) ? h("th", { scope: "col", class: heading[1] }, heading[0]) : h("th", { scope: "col" }, heading));
  return h("table", { class: "recon-table", id }, h("thead", {}, h("tr", {}, ...headings.map(cell))), h("tbody", {}, ...rows));
}

/** The drift of each day as a bar from the centre: right when the bill is higher, left when lower. */
function dayRows(days, spansYears) {
  const largest = Math.max(0, ...days.map((day) => Math.abs(Number(day.driftUsd))));
  return days.map((day) => {
    const sign = driftSign(day.driftUsd);
    const bar = h("span", { class: "drift-bar", dataset: { sign } });
    bar.style.width = `${largest > 0 ? (50 * Math.abs(Number(day.driftUsd))) / largest : 0}%`;
    const date = new Date(`${day.day}T00:00:00Z`);
    return h(
      "tr",
      { dataset: { day: day.day }, title: `${day.rows} rows · tokens: logs ${count(day.logTokens)}, bill ${count(day.billTokens)}` },
      h(
        "th",
        { scope: "row", title: day.complete === false ? `${day.day}: the bill has not finished this day (CUR lags up to a day)` : day.day },
        spansYears ? `${dateUtc.format(date)}, ${day.day.slice(0, 4)}` : dateUtc.format(date),
        day.complete === false ? h("span", { class: "recon-open" }, " (open)") : null,
      ),
      moneyCell(day.logCostUsd),
      moneyCell(day.billCostUsd),
      ...driftCells(day),
      h("td", { class: "bar-cell", "aria-hidden": "true" }, h("span", { class: "axis" }), bar),
    );
  });
}

function modelRows(models) {
  const labels = modelLabels(models.map((row) => row.model));
  return models.map((row, index) =>
    h(
      "tr",
      { dataset: { model: row.model }, title: `${row.rows} rows · tokens: logs ${count(row.logTokens)}, bill ${count(row.billTokens)}` },
      h("th", { scope: "row", title: row.model }, labels[index]),
      moneyCell(row.logCostUsd),
      moneyCell(row.billCostUsd),
      ...driftCells(row),
    ),
  );
}

function unmappedSection(unmapped) {
  const head = h(
    "h3",
    {},
    "Unmapped bill usage ",
    h("span", { class: "recon-unmapped-total", id: "recon-unmapped-total", title: exactUsd(unmapped.costUsd) }, usd(unmapped.costUsd)),
  );
  if (unmapped.lines.length === 0)
    return h("div", { class: "recon-unmapped" }, head, h("p", { class: "recon-note" }, "The usage-type map placed every Bedrock usage line item."));
  const rows = unmapped.lines.map((line) =>
    h(
      "tr",
      { dataset: { usageType: line.usageType } },
      h("th", { scope: "row", title: line.usageType }, line.usageType),
      h("td", { class: "text" }, line.productName ?? line.productCode),
      moneyCell(line.billCostUsd),
      h("td", {}, `${line.usageAmount} ${line.pricingUnit ?? "units"}`),
      h("td", { class: "text reason" }, line.reason),
    ),
  );
  return h(
    "div",
    { class: "recon-unmapped" },
    head,
    h(
      "p",
      { class: "recon-note" },
      "Bedrock usage on the bill the usage-type map cannot place: in the bill, in no row and in no drift (extend the map with --usage-types).",
    ),
    reconTable("recon-unmapped-lines", ["Usage type", ["Product", "text"], "Cost", "Amount", ["Why not placed", "text"]], rows),
  );
}

function renderReconcile(answer) {
  const section = $("recon");
  const hint = $("recon-hint");
  const body = $("recon-body");
  section.hidden = false;
  if (!answer.loaded) {
    section.dataset.state = "none";
    $("recon-period").textContent = `AWS bill (CUR 2.0) against the logs · ${RECON_SCOPE}`;
    $("recon-period").title = "";
    hint.replaceChildren("No bill loaded. To compare the AWS bill with these logs, ", ...withCode(answer.hint), ".");
    if (answer.location) hint.append(h("span", { class: "recon-location" }, `The dashboard reads ${answer.location}.`));
    hint.hidden = false;
    body.hidden = true;
    body.replaceChildren();
    return;
  }
  const t = answer.totals;
  const sign = driftSign(t.driftUsd);
  const spansYears = answer.byDay.length > 0 && answer.byDay[0].day.slice(0, 4) !== answer.byDay[answer.byDay.length - 1].day.slice(0, 4);
  const period = answer.from && answer.to ? `${answer.from} – ${answer.to} UTC` : "empty bill";
  $("recon-period").textContent = `${period} · ${count(answer.cur.length)} CUR ${answer.cur.length === 1 ? "path" : "paths"} · ${RECON_SCOPE}`;
  $("recon-period").title = answer.cur.join("\n");
  section.dataset.state = "loaded";
  hint.hidden = true;
  body.hidden = false;
  body.replaceChildren(
    h(
      "div",
      { class: "recon-totals" },
      reconTile("recon-logs", "Logs", usd(t.logCostUsd), exactUsd(t.logCostUsd), "priced from the invocation logs"),
      reconTile("recon-bill", "Bill", usd(t.billCostUsd), exactUsd(t.billCostUsd), `Bedrock usage · ${usd(t.mappedBillCostUsd)} placed`),
      h(
        "div",
        { class: "recon-tile drift-tile", dataset: { sign } },
        h("p", { class: "recon-label" }, "Drift"),
        h("p", { class: "recon-value", id: "recon-drift", title: exactUsd(t.driftUsd) }, signedUsd(t.driftUsd)),
        h("p", { class: "recon-sub" }, h("span", { id: "recon-drift-pct" }, signedPercent(t.driftPct)), ` of the placed bill · ${DRIFT_WORDS[sign]}`),
      ),
      reconTile(
        "recon-unmapped",
        "Unmapped",
        usd(t.unmappedCostUsd),
        exactUsd(t.unmappedCostUsd),
        `${count(answer.unmapped.lines.length)} usage ${answer.unmapped.lines.length === 1 ? "type" : "types"} not placed`,
      ),
      reconTile("recon-net", "Net bill", usd(t.netBillCostUsd), exactUsd(t.netBillCostUsd), "after credits and discounts, no tax"),
    ),
    h(
      "p",
      { class: "recon-legend" },
      "Drift = bill − logs, on the usage the map places (bill − unmapped − logs). ",
      h("span", { class: "drift", dataset: { sign: "up" } }, "+"),
      " the bill is higher than the logs; ",
      h("span", { class: "drift", dataset: { sign: "down" } }, "−"),
      " it is lower. Percentages are of the placed bill.",
    ),
    h(
      "div",
      { class: "recon-grid" },
      h(
        "div",
        { class: "recon-block" },
        h("h3", {}, "Drift by day"),
        h("div", { class: "recon-scroll" }, reconTable("recon-days", ["Day", "Logs", "Bill", "Drift", "%", ""], dayRows(answer.byDay, spansYears))),
      ),
      h(
        "div",
        { class: "recon-block" },
        h("h3", {}, "Drift by model"),
        h("div", { class: "recon-scroll" }, reconTable("recon-models", ["Model", "Logs", "Bill", "Drift", "%"], modelRows(answer.byModel))),
      ),
    ),
    unmappedSection(answer.unmapped),
  );
}

function renderReconcileError(message) {
  const section = $("recon");
  section.hidden = false;
  section.dataset.state = "error";
  $("recon-hint").replaceChildren(h("span", { class: "lookup-error" }, `The last reconciliation cannot be shown: ${message}`));
  $("recon-hint").hidden = false;
  $("recon-body").hidden = true;
}

/** Reads the reconciliation; its failures show in the panel and never mark the page as disconnected. */
async function loadReconcile() {
  try {
    const answer = await getJson("/api/reconcile");
    const text = JSON.stringify(answer);
    if (text === state.reconcileText) return;
    state.reconcileText = text;
    renderReconcile(answer);
  } catch (error) {
    if (!(error instanceof RequestError)) return; // the server is unreachable: the live status says so
    state.reconcileText = "";
    renderReconcileError(error.message);
  }
}

// ---------------------------------------------------------------------------------------------
// Sample data: local mode's first start generates history; the badge says so while its marker exists

async function loadSample() {
  try {
    const answer = await getJson("/api/sample");
    const badge = $("sample-badge");
    badge.hidden = !answer.sample;
    if (answer.sample) {
      const budgets = answer.budgets.map((budget) => `${budget.tenantId} (${budget.monthlyUsd} USD)`).join(", ");
      badge.textContent = answer.complete ? "Sample data" : "Sample data · loading";
      badge.title = [
        `${count(answer.records)} generated invocations over the ${answer.days} days before ${answer.to.slice(0, 10)}, counted by the real pipeline.`,
        budgets ? `Sample budgets: ${budgets}.` : "",
        `This is ${answer.hint}.`,
      ]
        .filter(Boolean)
        .join("\n");
    }
  } catch {
    // The badge is informative only: the live status reports an unreachable server.
  }
}

// ---------------------------------------------------------------------------------------------
// Model performance

/** Milliseconds as the table shows them: "812 ms", "1.53 s" from a second up; "–" when the log says none. */
function latencyText(ms) {
  if (ms === null || ms === undefined) return "–";
  return ms < 1000 ? `${count(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** A rate of invocations as a percentage cell, highlighted when above zero. */
function rateCell(rate, part, whole, what) {
  return h(
    "td",
    { class: "perf-rate", dataset: { nonzero: String(part > 0) }, title: `${count(part)} of ${count(whole)} invocations ${what}` },
    percent(rate * 100, 2),
  );
}

function renderPerformance(models) {
  const body = $("perf-body");
  $("perf").dataset.state = models.length === 0 ? "empty" : "loaded";
  $("perf-empty").hidden = models.length > 0;
  if (models.length === 0) {
    body.replaceChildren();
    return;
  }
  const labels = modelLabels(models.map((row) => row.model));
  const rows = models.map((row, index) =>
    h(
      "tr",
      { dataset: { model: row.model } },
      h("th", { scope: "row", title: row.model }, labels[index]),
      h("td", { class: "perf-invocations" }, count(row.invocations)),
      rateCell(row.errorRate, row.errors, row.invocations, "failed"),
      rateCell(row.throttleRate, row.throttles, row.invocations, "throttled (ThrottlingException)"),
      h("td", { class: "perf-p50", title: `${count(row.timedInvocations)} timed invocations` }, latencyText(row.latencyP50Ms)),
      h("td", { class: "perf-p90" }, latencyText(row.latencyP90Ms)),
      h("td", { class: "perf-p99" }, latencyText(row.latencyP99Ms)),
      h(
        "td",
        { class: "perf-tps", title: "Output tokens per second of the timed invocations" },
        row.outputTokensPerSecond === null ? "–" : row.outputTokensPerSecond.toFixed(1),
      ),
    ),
  );
  body.replaceChildren(reconTable("perf-table", ["Model", "Invocations", "Errors", "Throttles", "p50", "p90", "p99", "Tokens/s"], rows));
}

async function loadPerformance(seq) {
  const answer = await getJson(`/api/performance${apiQuery()}`);
  if (seq !== state.seq) return; // a newer selection was asked for meanwhile
  const text = JSON.stringify(answer.models);
  if (text === state.performanceText) return;
  state.performanceText = text;
  renderPerformance(answer.models);
}

// ---------------------------------------------------------------------------------------------
// Ranking by cost: the spend API's report across tenants (GET /v1/spend) for the selected month

/** Rows of the ranking. */
const RANK_TOP = 10;

const RANK_HEADINGS = { tenant: "Tenant", model: "Model", department: "Department", tenantGroup: "Tenant group", application: "Application", user: "User" };

function renderRanking(report) {
  const groups = report.groups;
  $("rank").dataset.state = groups.length === 0 ? "empty" : "loaded";
  $("rank-empty").hidden = groups.length > 0;
  $("rank-empty").textContent = `No usage in ${monthLabel(report.period)}.`;
  $("rank-hint").textContent = `All tenants, ${monthLabel(report.period)}${report.asOf ? `, as of ${formatTime(report.asOf)}` : ""} (GET /v1/spend)`;
  const labels = report.groupBy === "model" ? modelLabels(groups.map((group) => group.key)) : null;
  const rows = groups.map((group, index) => {
    const tokens = group.inputTokens + group.outputTokens + group.cacheReadTokens + group.cacheWriteTokens;
    const label = labels ? (labels[index] ?? group.key) : keyLabel(group.key);
    return h(
      "tr",
      { dataset: { key: group.key } },
      h("td", { class: "rank-n" }, String(index + 1)),
      h("td", { class: "rank-key", title: group.key }, truncate(label, 48)),
      h("td", {}, count(group.invocations)),
      h("td", {}, count(tokens)),
      moneyCell(group.costUsd),
    );
  });
  $("rank-body").replaceChildren(reconTable("rank-table", ["#", RANK_HEADINGS[report.groupBy] ?? report.groupBy, "Invocations", "Tokens", "Cost"], rows));
}

function renderRankingError(message) {
  $("rank").dataset.state = "error";
  $("rank-body").replaceChildren();
  $("rank-empty").hidden = false;
  $("rank-empty").textContent = message;
}

async function loadRanking(seq) {
  const groupBy = $("rank-by").value;
  const url = `/v1/spend?month=${encodeURIComponent(lookupMonth())}&groupBy=${encodeURIComponent(groupBy)}&limit=${RANK_TOP}`;
  let report;
  try {
    report = await getJson(url);
  } catch (error) {
    // A dimension the aggregator does not break down by: the API says which it keeps.
    if (seq === state.seq && error instanceof RequestError && error.status === 400) {
      state.rankingText = "";
      renderRankingError(error.message);
      return;
    }
    throw error;
  }
  if (seq !== state.seq) return;
  const text = JSON.stringify(report);
  if (text === state.rankingText) return;
  state.rankingText = text;
  renderRanking(report);
}

function bindRanking() {
  $("rank-by").addEventListener("change", () => {
    state.rankingText = "";
    refreshNow();
  });
}

// ---------------------------------------------------------------------------------------------
// The loop: one poll at a time; a filter change starts a new one at once

async function tick() {
  clearTimeout(state.timer);
  const seq = ++state.seq;
  state.ticks += 1;
  try {
    const tasks = [loadDashboard(seq), loadPerformance(seq), loadRanking(seq), loadAlerts(), loadLookup(seq)];
    if (state.ticks % FILTERS_EVERY === 0) tasks.push(loadFilters(), loadReconcile(), loadSample());
    await Promise.all(tasks);
    renderLive(true);
  } catch (error) {
    renderLive(false);
    if (!(error instanceof RequestError) && !(error instanceof TypeError)) console.warn("refresh failed:", error);
  } finally {
    if (seq === state.seq) state.timer = setTimeout(tick, POLL_MS);
  }
}

function refreshNow() {
  void tick();
}

async function start() {
  for (const element of document.querySelectorAll("[data-chart]")) charts[element.dataset.chart] = makeChart(element.id);
  const explicitPeriod = readUrl();
  const reconcile = loadReconcile();
  const sample = loadSample();
  try {
    await loadFilters();
  } catch {
    // The first poll retries; the selects fill once the server answers.
  }
  await reconcile;
  await sample;
  if (!explicitPeriod) Object.assign(state.filters, defaultPeriod());
  writeUrl();
  renderFilters();
  bindFilters();
  bindLookup();
  bindRanking();
  if (state.lookup) {
    $("lookup-input").value = state.lookup;
    state.lookupLive = true;
  }
  globalThis.bedrockSpendDashboard = { charts, state, refresh: refreshNow };
  await tick();
  document.body.dataset.ready = "true";
}

void start();
