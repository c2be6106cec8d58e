// The live socket (/ws/live/, dispatch/live/consumer.py): case events as they happen. It remembers the
// last `seq` it saw and resumes from there after a dropped connection, so nothing is missed; when
// the server says too much was missed ("reload"), the page reloads its data instead.

const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;
const PING_MS = 25000;

export class LiveSocket {
  constructor(path, { onHello, onEvent, onReload, onState, onAlert = () => {} }) {
    this.url = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}${path}`;
    this.handlers = { onHello, onEvent, onReload, onState, onAlert };
    this.lastSeq = null;
    this.retry = 0;
    this.socket = null;
    this.pinger = null;
    this.stopped = false;
  }

  connect() {
    const url = this.lastSeq === null ? this.url : `${this.url}?after_seq=${this.lastSeq}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    this.handlers.onState("connecting");
    socket.addEventListener("message", (message) => this.receive(JSON.parse(message.data)));
    socket.addEventListener("close", (event) => this.closed(event));
  }

  receive(message) {
    switch (message.type) {
      case "hello":
        this.retry = 0;
        this.handlers.onState("on");
        clearInterval(this.pinger);
        this.pinger = setInterval(() => this.send({ type: "ping" }), PING_MS);
        // The first hello sets the starting point; after a reconnect the URL's after_seq replays.
        if (this.lastSeq === null) {
          this.lastSeq = message.seq;
          this.handlers.onHello(message.seq);
        }
        break;
      case "event":
        this.lastSeq = Math.max(this.lastSeq || 0, message.seq);
        this.handlers.onEvent(message);
        break;
      // Early warnings (maps.alerts) are not case events: no seq, nothing to resume.
      case "alert":
        this.handlers.onAlert(message);
        break;
      case "reload":
        this.lastSeq = message.seq;
        this.handlers.onReload();
        break;
      case "status":
        // The server lost its database or Redis; the socket stays. When it is whole, catch up.
        if (message.degraded.length) this.handlers.onState("degraded");
        else {
          this.handlers.onState("on");
          if (this.lastSeq !== null) this.send({ type: "resume", after_seq: this.lastSeq });
        }
        break;
      default:
        break;
    }
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  closed(event) {
    clearInterval(this.pinger);
    if (this.stopped) return;
    if (event.code === CLOSE_UNAUTHENTICATED || event.code === CLOSE_FORBIDDEN) {
      // Logged out or no longer allowed: retrying would only be refused again.
      this.handlers.onState("denied");
      return;
    }
    this.handlers.onState("off");
    const delay = Math.min(30000, 1000 * 2 ** this.retry) * (0.75 + Math.random() / 2);
    this.retry += 1;
    setTimeout(() => this.connect(), delay);
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pinger);
    if (this.socket) this.socket.close();
  }
}
