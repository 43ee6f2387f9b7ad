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
}

start().catch((err) => show($("response"), err.message));
