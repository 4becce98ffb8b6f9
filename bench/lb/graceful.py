# A web server that drains on SIGTERM as real ones do: it stops accepting, finishes what it
# has begun, and exits. Answers every GET with its task id. Usage: graceful.py PORT
import http.server, os, signal, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        body = (os.environ.get("MESOS_TASK_ID", "?") + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer.allow_reuse_address = True
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
s.daemon_threads = False
signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=s.shutdown).start())
s.serve_forever()
s.server_close()
