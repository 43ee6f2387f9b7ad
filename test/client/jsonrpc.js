// A promise-based JSON-RPC 2.0 client over a websocket.
export class JsonRpcClient extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.nextId = 1;
    this.pending = new Map();
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.ws = new WebSocket(this.url);
      this.ws.onopen = () => { this.dispatchEvent(new Event("open")); resolve(this); };
      this.ws.onerror = () => reject(new Error(`cannot connect to ${this.url}`));
      this.ws.onclose = () => {
        for (const { reject: fail } of this.pending.values()) fail(new Error("connection closed"));
        this.pending.clear();
        this.dispatchEvent(new Event("close"));
      };
      this.ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    });
  }

  receive(message) {
    for (const item of Array.isArray(message) ? message : [message]) {
      if (item.method && item.id === undefined) {
        this.dispatchEvent(new CustomEvent("notification", { detail: item }));
        continue;
      }
      const waiter = this.pending.get(item.id);
      if (!waiter) continue;
      this.pending.delete(item.id);
      if (item.error) {
        const error = new Error(item.error.message);
        error.code = item.error.code;
        waiter.reject(error);
      } else {
        waiter.resolve(item.result);
      }
    }
  }

  call(method, params) {
    const id = this.nextId++;
    const request = { jsonrpc: "2.0", method, id };
    if (params !== undefined) request.params = params;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify(request));
    });
  }
}
