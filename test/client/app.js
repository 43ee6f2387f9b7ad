import { JsonRpcClient } from "./jsonrpc.js";

const $ = (id) => document.getElementById(id);
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/websocket`;
const client = new JsonRpcClient(wsUrl);
let notificationCount = 0;

function show(target, value) {
  target.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

async function send() {
  const method = $("method").value.trim();
  const text = $("params").value.trim();
  let params;
  try {
    params = text ? JSON.parse(text) : undefined;
  } catch (err) {
    show($("response"), `params are not valid JSON: ${err.message}`);
    return;
  }
  try {
    show($("response"), await client.call(method, params));
  } catch (err) {
    show($("response"), { error: { code: err.code, message: err.message } });
  }
}

client.addEventListener("notification", (event) => {
  notificationCount += 1;
  $("notification-count").textContent = String(notificationCount);
  const log = $("notifications");
  log.textContent = `${JSON.stringify(event.detail)}\n${log.textContent}`.slice(0, 20000);
});
client.addEventListener("close", () => {
  $("status").textContent = "closed";
  $("status").className = "closed";
});

$("send").addEventListener("click", send);
$("methods").addEventListener("change", (event) => { $("method").value = event.target.value; });

// printer objects as the server last reported them, merged from status diffs
const printer = {};

function merge(status) {
  for (const [name, fields] of Object.entries(status)) {
    printer[name] = { ...(printer[name] || {}), ...fields };
  }
  for (const heater of ["extruder", "heater_bed"]) {
    const h = printer[heater];
    if (h && typeof h.temperature === "number") {
      $(`temp-${heater}`).textContent = `${h.temperature.toFixed(1)} / ${(h.target ?? 0).toFixed(0)} °C`;
    }
  }
  const stats = printer.print_stats || {};
  $("print-state").textContent = stats.state ?? "–";
  $("print-file").textContent = stats.filename ?? "";
  const progress = (printer.virtual_sdcard || {}).progress ?? 0;
  $("print-progress").value = progress;
  $("print-percent").textContent = `${Math.round(progress * 100)}%`;
}

async function watchPrinter() {
  const info = await client.call("server.info");
  if (!info.klippy_connected || info.klippy_state !== "ready") {
    $("print-state").textContent = `printer ${info.klippy_state}`;
    setTimeout(watchPrinter, 2000);
    return;
  }
  const objects = { extruder: null, heater_bed: null, print_stats: null, virtual_sdcard: null };
  const { status } = await client.call("printer.objects.subscribe", { objects });
  merge(status);
  document.body.dataset.printer = "subscribed";
}

client.addEventListener("notification", (event) => {
  if (event.detail.method === "notify_status_update") merge(event.detail.params[0]);
});

async function start() {
  await client.connect();
  $("status").textContent = "connected";
  $("status").className = "open";
  await client.call("server.connection.identify", {
    client_name: "skysail-test-client", version: "0.1.0", type: "web", url: location.href,
  });
  const info = await client.call("server.info");
  $("info").textContent = `printer: ${info.klippy_state} · Skysail ${info.moonraker_version}`;
  const { methods } = await client.call("server.methods.list");
  const select = $("methods");
  for (const name of methods) select.add(new Option(name, name));
  $("method-count").textContent = `(${methods.length})`;
  document.body.dataset.ready = "true";
  watchPrinter().catch((err) => show($("response"), err.message));
}

start().catch((err) => show($("response"), err.message));
