/** Help texts, one per command. Kept in one place so docs/cli.md can mirror them. */

/** Top-level `parley --help`. */
export const mainHelp = `parley - WebSocket toolkit: client, servers, load generator

Usage:
  parley connect URL [options]      talk to a WebSocket server (interactive on a TTY, pipe otherwise)
  parley connect --io URL           talk to a Socket.IO server (emit events, print events and acks)
  parley serve MODE [options]       run a WebSocket server (--echo, --broadcast, --exec, --proxy, --static)
  parley serve --io | --engine-io   the Socket.IO / Engine.IO protocol test suites' reference server
  parley bench URL [options]        load-test an echo server
  parley demo [--port 8080]         the chat demo: broadcast endpoint + chat page on http://localhost:8080

Options:
  -h, --help       help (also after a command: parley serve --help)
  -V, --version    print the version

Exit codes: 0 ok, 1 failure, 2 usage error, 3 cannot connect/listen, 4 handshake failed,
            5 abnormal close, 130 interrupted. See docs/cli.md.
`;

/** `parley connect --help`. */
export const connectHelp = `Usage: parley connect URL [options]

Connects to a WebSocket server. URL is ws://, wss:// (http/https are mapped, bare host:port gets ws://).

On a terminal: a prompt with line editing and history; received messages are printed above it.
  /ping [data]  /close [code] [reason]  /binary <hex>  /help  /quit   (// sends a leading /)
Otherwise (pipe mode): each stdin line is sent as one message; each received message is written
as one line to stdout (binary: raw bytes + newline). At end of input the connection is closed
(1000) and parley exits after the close handshake.

Options:
  -H, --header 'Name: value'  extra request header (repeatable)
  -s, --subprotocol NAME      offer a subprotocol (repeatable or comma-separated)
  -o, --origin ORIGIN         send an Origin header
      --auth USER:PASS        HTTP Basic authorization (user:pass@ in the URL works too)
  -k, --insecure              do not verify the server's TLS certificate
      --ping-interval SECS    send a ping every SECS seconds
      --deflate               offer permessage-deflate
  -b, --binary                send input lines as binary messages
      --max-payload SIZE      largest message accepted (default 64MiB; 1k = 1024)
  -t, --timeout SECS          opening handshake timeout (default 10)
      --json                  pretty-print JSON messages (interactive mode)
  -w, --wait SECS             pipe mode: keep receiving SECS seconds after end of input
                              before closing (for servers that answer asynchronously)
  -h, --help                  this help

Socket.IO (--io): URL is http(s):// (ws/wss mapped, bare host:port gets http://); its path is
the namespace (default /). Each input line is one emit: 'event [json args...]', e.g.
  message "hello" {"n":1} [1,2]       ("quoted event" for names with spaces; binary: {"$binary":"<base64>"})
Every incoming event and ack is printed as one JSON line: {"event":"x","args":[...]} or
{"ack":"x","args":[...]}. Pipe mode: at end of input parley waits for pending acks, keeps receiving
until no event arrived for --wait SECS (default 0.5), then disconnects.
      --io                    speak Socket.IO v5 / Engine.IO v4 (parley/client)
      --io-auth JSON          CONNECT auth payload (socket.handshake.auth), a JSON object
      --io-path PATH          Engine.IO endpoint path (default /socket.io)
      --transport NAME        polling or websocket (repeatable; default polling, then upgrade)
      --ack                   ask for an acknowledgement with every emit
      --ack-timeout SECS      how long to wait for each ack (default 5)
  (-H, --timeout, --json and --wait apply too.)

Exit codes: 0 clean close (1000/1001/1005), 1 (--io) a line was not sent or an ack timed out,
            2 usage, 3 cannot connect, 4 handshake failed (e.g. HTTP 404; --io: namespace or
            middleware refused), 5 abnormal close (--io: disconnected by transport or timeout),
            130 interrupted.
Examples:
  echo hello | parley connect ws://127.0.0.1:8080
  parley connect wss://example.com/socket -H 'Authorization: Bearer T' --subprotocol chat
  echo 'message-with-ack 1 "two"' | parley connect --io http://localhost:3000 --ack
`;

/** `parley serve --help`. */
export const serveHelp = `Usage: parley serve MODE [options]

Modes (choose one; --static may be combined with any of them or used alone):
      --echo                 send every message back with the same type (Autobahn testee)
      --broadcast            send every message to every other connection (a chat room)
      --exec CMD             websocketd: run CMD (via the shell) per connection; each message is a
                             line on its stdin, each stdout line a message; CGI-style environment
      --proxy tcp://HOST:PORT  websockify: bridge each connection to a TCP connection (binary)
      --static DIR           serve files from DIR over plain HTTP on the same port
      --io                   Socket.IO v5 server configured exactly as the reference server of
                             Socket.IO's protocol test suite (docs/socket.io-protocol/v5-test-suite):
                             pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6,
                             connectTimeout 1000 ms, CORS *; on / it emits 'auth' with the
                             handshake auth, echoes 'message' as 'message-back' and acks
                             'message-with-ack'; on /custom it emits 'auth'
      --engine-io            Engine.IO v4 server as the Engine.IO v4 test suite's reference
                             (same timings, CORS *), echoing every message
                             With --io/--engine-io the port defaults to 3000 (the suites' port), the
                             host to every interface, and only --port, --host, --quiet apply.

Options:
  -p, --port PORT            port to listen on (default 8080; 0 picks a free one)
      --host HOST            address to bind (default 127.0.0.1; 0.0.0.0 for all interfaces)
      --path PATH            accept WebSocket upgrades only on this path (default: any)
      --tls-cert FILE        PEM certificate: serve wss:// and https:// (with --tls-key)
      --tls-key FILE         PEM private key
      --deflate              enable permessage-deflate
      --origin ORIGIN        allow only this Origin (repeatable; default: any)
      --max-payload SIZE     largest message accepted (default 64MiB; 1k = 1024)
      --max-connections N    refuse upgrades with 503 beyond N open connections (default: no limit)
      --heartbeat SECS       ping every SECS seconds; terminate peers that miss a pong
  -q, --quiet                no per-connection log lines
  -h, --help                 this help

Logs go to stderr, one line per connection opened and closed. SIGINT/SIGTERM closes every
connection with 1001 and exits once they are closed (at most 5 s; a second signal exits at once).
Examples:
  parley serve --echo --port 9001 --deflate
  parley serve --broadcast --static ./public
  parley serve --exec 'python3 -u counter.py' --port 8080
  parley serve --proxy tcp://127.0.0.1:5900 --port 6080
  parley serve --io            (then: npm run conformance:socketio, or parley connect --io)
`;

/** `parley bench --help`. */
export const benchHelp = `Usage: parley bench URL [options]

Load-tests an echo server (e.g. parley serve --echo): opens the connections, keeps IN-FLIGHT
messages outstanding on each, and measures round trips.

Options:
  -c, --connections N   connections (default 10)
  -i, --in-flight N     messages outstanding per connection (default 1)
      --size SIZE       payload size (default 64; 1k = 1024)
  -d, --duration SECS   how long to run (default 10)
  -b, --binary          send binary messages (default text)
      --deflate         offer permessage-deflate
      --json            print the result as JSON instead of a table
  -k, --insecure        do not verify TLS certificates
  -h, --help            this help

Prints a live progress line on a terminal, then messages/s, MB/s, latency percentiles, errors.
`;

/** `parley demo --help`. */
export const demoHelp = `Usage: parley demo [options]

Serves the chat demo: the page from parley's demo/ directory on http://localhost:PORT and a
broadcast WebSocket endpoint at /chat that the page chats through (npm start runs this).

Options:
  -p, --port PORT    port (default 8080)
      --host HOST    address to bind (default 127.0.0.1)
  -q, --quiet        no per-connection log lines
  -h, --help         this help
`;
